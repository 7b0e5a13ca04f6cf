"""The window geometry pooling shares: output sizes, the strided slice of every window at
one kernel offset, padding, and arrays that keep the input's memory order (channels-last
after a convolution).

>>> pool_out_size(28, 2, 2, 0, 1, False)
14
"""

from __future__ import annotations

from axonic.backend import get_array_module


def pool_out_size(size, k, s, p, d, ceil_mode) -> int:
    """PyTorch's pooling output size; with ceil_mode the last window must start inside
    the input or its left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_problem(spatial, kernel, stride, padding, dilation, ceil_mode) -> str | None:
    """Why pooling cannot run on this spatial size (None when it can)."""
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        return (f"padding {tuple(padding)} must be at most half of the kernel size "
                f"{tuple(kernel)}")
    out = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                zip(spatial, kernel, stride, padding, dilation))
    if any(o < 1 for o in out):
        return (f"the input size {tuple(spatial)} with padding {tuple(padding)} is too small "
                f"for the kernel {tuple(kernel)} (dilation {tuple(dilation)}): the output "
                f"size would be {out}")
    return None


def _offsets(kernel, dilation, stride, out_hw):
    """Per kernel offset: the slices of the padded input that every window reads there."""
    for i in range(kernel[0]):
        h0 = i * dilation[0]
        hs = slice(h0, h0 + stride[0] * (out_hw[0] - 1) + 1, stride[0])
        for j in range(kernel[1]):
            w0 = j * dilation[1]
            yield (Ellipsis, hs, slice(w0, w0 + stride[1] * (out_hw[1] - 1) + 1, stride[1]))


def _channels_last(x) -> bool:
    """Whether (N, C, H, W) ``x`` is a view of (N, H, W, C) memory, as conv outputs are."""
    return x.ndim == 4 and not x.flags.c_contiguous and x.transpose(0, 2, 3, 1).flags.c_contiguous


def _alloc(shape, fill, dtype, xp, channels_last):
    """A new array filled with ``fill`` (None: left unset); channels-last when the input was,
    so elementwise ops between inputs, outputs and gradients keep one memory order."""
    if channels_last:
        n, c, h, w = shape
        return _alloc((n, h, w, c), fill, dtype, xp, False).transpose(0, 3, 1, 2)
    if fill is None:
        return xp.empty(shape, dtype)
    return xp.zeros(shape, dtype) if fill == 0 else xp.full(shape, fill, dtype)


def _like(g, channels_last):
    """``g`` in the memory order of the arrays it meets: elementwise ops between (N, C, H, W)
    and channels-last arrays are several times slower than between two of one order."""
    if g.ndim != 4 or _channels_last(g) == channels_last:
        return g
    xp = get_array_module(g)
    if channels_last:
        return xp.ascontiguousarray(g.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return xp.ascontiguousarray(g)


def _padded(x, padding, out_hw, kernel, stride, dilation, fill):
    """``x`` padded by ``padding`` and, for ceil_mode's last windows, extended with ``fill``."""
    xp = get_array_module(x)
    h, w = x.shape[-2:]
    need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out_hw, stride, dilation, kernel)]
    full = (max(need[0], h + 2 * padding[0]), max(need[1], w + 2 * padding[1]))
    if full == (h, w):
        return x
    buf = _alloc(x.shape[:-2] + full, fill, x.dtype, xp, _channels_last(x))
    buf[..., padding[0]:padding[0] + h, padding[1]:padding[1] + w] = x
    return buf

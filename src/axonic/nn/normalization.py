"""Normalisation layers: ``LayerNorm``, ``BatchNorm1d``, ``BatchNorm2d`` (and their
functional forms), each one fused op with its own backward (``axonic.ops.normalization``)."""

from __future__ import annotations

import numpy as np

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import Tensor, _make
from axonic.backend import get_array_module, resolve_dtype
from axonic.nn import init
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter
from axonic.ops import normalization as _fused
from axonic.ops.rms_norm import rms_norm


def _empty(shape, dtype, device):
    from axonic.ops.creation import empty

    return empty(*shape, dtype=resolve_dtype(dtype), device=device)


def _ones(shape, like):
    return _make(get_array_module(like._data).ones(shape, like.dtype))


def _normalized_shape(layer: str, value) -> tuple:
    shape = (value,) if isinstance(value, int | np.integer) else tuple(value)
    if not shape or any(isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1
                        for s in shape):
        raise ValueError(f"{layer}: normalized_shape must be positive ints, got {value!r}")
    return tuple(int(s) for s in shape)


def _check_trailing(module, input) -> None:
    """The input of a layer normalising its trailing ``normalized_shape`` dims."""
    k = len(module.normalized_shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != module.normalized_shape:
        raise module.input_error(f"expected input with trailing dimensions "
                                 f"{module.normalized_shape}, got shape {tuple(input.shape)}")
    module.check_input_dtype(input, module.weight)


def _check_eps(layer, eps):
    if isinstance(eps, bool) or not isinstance(eps, int | float) or not eps > 0:
        raise ValueError(f"{layer}: eps must be a positive number, got {eps!r}")
    return float(eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing dims ``normalized_shape`` (mean 0, variance 1), then
    scale by ``weight`` and shift by ``bias``.

    >>> import axonic
    >>> layer_norm(axonic.tensor([[1.0, 3.0]]), (2,), eps=0.0)
    tensor([[-1.,  1.]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise ValueError(f"layer_norm: expected input with trailing dimensions {shape}, "
                         f"got shape {tuple(input.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}, "
                             f"got {tuple(p.shape)}")
    args = [input]
    if weight is not None or bias is not None:
        args.append(weight if weight is not None else _ones(shape, input))
    if bias is not None:
        args.append(bias)
    return _fused.LayerNorm.apply(*args, k=k, eps=eps)


def _check_channels(op: str, c: int, **params) -> None:
    """Per-channel statistics and affine parameters: ``(c,)`` each (None: absent)."""
    for name, p in params.items():
        if p is not None and tuple(p.shape) != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for an input with {c} "
                             f"channels, got {tuple(p.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel (dim 1). In training the batch's statistics are used and
    ``running_mean`` / ``running_var`` (if given) move towards them by ``momentum``
    (the variance unbiased); otherwise the running statistics are used."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), "
                         f"got shape {tuple(input.shape)}")
    c = input.shape[1]
    _check_channels("batch_norm", c, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    args = [input]
    if weight is not None or bias is not None:
        args.append(weight if weight is not None else _ones((c,), input))
    if bias is not None:
        args.append(bias)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when "
                             "training=False")
        return _fused.BatchNorm.apply(*args, mean=running_mean._data, var=running_var._data,
                                      eps=eps)
    n = input._data.size // c if c else 0
    if n <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {tuple(input.shape)}")
    out = _fused.BatchNorm.apply(*args, eps=eps)
    fn = out.grad_fn
    if running_mean is not None or running_var is not None:
        # the Function keeps its batch statistics only when a graph is recorded
        if fn is not None:
            mean, var = fn.stats
        else:
            axes = (0,) + tuple(range(2, input.ndim))
            mean, var, _ = _fused._moments(input._data, axes)
            mean, var = mean.reshape(-1), var.reshape(-1)
        with no_grad():
            if running_mean is not None:
                rm = running_mean._data
                rm *= 1 - momentum
                rm += momentum * mean.astype(rm.dtype, copy=False)
                running_mean._vc[0] += 1
            if running_var is not None:
                rv = running_var._data
                rv *= 1 - momentum
                rv += (momentum * n / (n - 1)) * var.astype(rv.dtype, copy=False)
                running_var._vc[0] += 1
    return out


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``: unit vectors (zero rows stay zero).

    >>> import axonic
    >>> normalize(axonic.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    from axonic.ops._util import norm_dim

    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    if not p > 0:
        raise ValueError(f"normalize: p must be positive, got {p!r}")
    (axis,) = norm_dim(dim, input.ndim, "normalize")
    return _fused.Normalize.apply(input, p=float(p), axis=axis, eps=eps)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dims, with a learned elementwise
    scale (ones) and shift (zeros).

    >>> import axonic
    >>> from axonic import nn
    >>> nn.LayerNorm(4)(axonic.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape("LayerNorm", normalized_shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(_empty(self.normalized_shape, dtype, device))
            if bias:
                self.bias = Parameter(_empty(self.normalized_shape, dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        _check_trailing(self, input)
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class _NormBase(Module):
    """Per-channel normalisation state shared by batch and instance norm, as PyTorch's
    ``_NormBase``: the affine ``weight``/``bias`` and the running statistics with
    ``num_batches_tracked`` (the same ``state_dict`` keys)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(
                num_features, int | np.integer) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, "
                             f"got {num_features!r}")
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(
                momentum, int | float) or not 0 <= momentum <= 1):
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = _check_eps(name, eps)
        self.momentum = momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(_empty((num_features,), dtype, device))
            if bias:
                self.bias = Parameter(_empty((num_features,), dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", _empty((num_features,), dtype, device))
            self.register_buffer("running_var", _empty((num_features,), dtype, device))
            self.register_buffer("num_batches_tracked", _make(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class _BatchNorm(_NormBase):
    _dims: tuple = ()
    _shape_text = ""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._dims:
            raise self.input_error(f"expected {self._shape_text} input, got shape "
                                   f"{tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise self.input_error(f"expected input with {self.num_features} channels in "
                                   f"dim 1, got shape {tuple(input.shape)}")
        self.check_input_dtype(input, self.weight if self.affine else self.running_mean)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        if use_batch and input._data.size // input.shape[1] <= 1:
            raise self.input_error(f"expected more than 1 value per channel when training, "
                                   f"got input of shape {tuple(input.shape)}")
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L).

    >>> import axonic
    >>> from axonic import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> bn(axonic.randn(8, 3)).shape, int(bn.num_batches_tracked)
    ((8, 3), 1)
    """

    _dims = (2, 3)
    _shape_text = "a 2-d (N, C) or 3-d (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs over N, H and W."""

    _dims = (4,)
    _shape_text = "a 4-d (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) inputs over N, D, H and W."""

    _dims = (5,)
    _shape_text = "a 5-d (N, C, D, H, W)"


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Normalise each of ``num_groups`` groups of channels (dim 1) per sample, then a
    per-channel affine.

    >>> import axonic
    >>> group_norm(axonic.randn(2, 4, 3), 2).shape
    (2, 4, 3)
    """
    from axonic.ops.shape import reshape

    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, ...) with C divisible by "
                         f"num_groups={num_groups}, got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    grouped = reshape(input, n, num_groups, -1)
    out = reshape(_fused.LayerNorm.apply(grouped, k=1, eps=eps), *input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * reshape(weight, *shape)
    if bias is not None:
        out = out + reshape(bias, *shape)
    return out


class GroupNorm(Module):
    """Normalise groups of channels per sample (independent of the batch size), with a
    learned per-channel scale (ones) and shift (zeros).

    >>> import axonic
    >>> from axonic import nn
    >>> nn.GroupNorm(2, 4)(axonic.randn(3, 4, 5)).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        for name, v in (("num_groups", num_groups), ("num_channels", num_channels)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"GroupNorm: {name} must be a positive integer, got {v!r}")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps = _check_eps("GroupNorm", eps)
        self.affine = bool(affine)
        if self.affine:
            self.weight = Parameter(_empty((num_channels,), dtype, device))
            if bias:
                self.bias = Parameter(_empty((num_channels,), dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise self.input_error(f"expected input with {self.num_channels} channels in dim 1, "
                                   f"got shape {tuple(input.shape)}")
        self.check_input_dtype(input, self.weight)
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims with a
    learned elementwise scale (ones), ``torch.nn.RMSNorm``; ``eps=None`` uses the machine
    epsilon of the input's dtype.

    >>> import axonic
    >>> from axonic import nn
    >>> nn.RMSNorm(4)(axonic.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape("RMSNorm", normalized_shape)
        self.eps = None if eps is None else _check_eps("RMSNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(_empty(self.normalized_shape, dtype, device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        _check_trailing(self, input)
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")

"""``gradcheck``: compare backward's gradients with float64 central differences."""

from __future__ import annotations

import numpy as np

from axonic.autograd.engine import grad
from axonic.autograd.grad_mode import enable_grad, no_grad
from axonic.autograd.tensor import Tensor, _make


class GradcheckError(AssertionError):
    """Analytical and numerical gradients disagree."""


def _checked_inputs(inputs, who: str) -> tuple[tuple, list]:
    """``inputs`` as a tuple, and those of them whose gradients are checked."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError(f"{who}: no input tensor has requires_grad=True")
    return inputs, checked


def _outputs(func, inputs):
    out = func(*inputs)
    return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]


def gradcheck(func, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, max_projections: int = 64) -> bool:
    """Check ``func``'s gradients against central differences in float64.

    ``inputs`` is a tensor or a tuple whose float64 tensors with ``requires_grad=True``
    are checked; other entries are passed through. The full numerical Jacobian is built
    column by column (2 forward calls per input element); the analytical side is one
    backward per output element, or ``max_projections`` random projections when the
    output is larger.

    >>> import axonic
    >>> x = axonic.randn(3, dtype=axonic.float64, requires_grad=True)
    >>> gradcheck(lambda t: (t * t.sin()).sum(), (x,))
    True
    """
    inputs, checked = _checked_inputs(inputs, "gradcheck")
    for t in checked:
        if t.dtype != np.float64:
            raise TypeError(
                f"gradcheck: inputs must be float64 for reliable differences, got {t.dtype.name}"
            )

    with no_grad():
        outs = _outputs(func, inputs)
    if not outs:
        raise ValueError("gradcheck: the function returned no tensor to check")
    out_sizes = [o._data.size for o in outs]
    n_out = sum(out_sizes)

    # Numerical Jacobian: rows are output elements, one block of columns per input.
    numeric = []
    for t in checked:
        data = t._data  # perturbed in place and restored; any strides (transposed views too)
        if not data.flags.writeable:
            raise ValueError("gradcheck: input tensors must be writeable (not broadcast views)")
        J = np.zeros((n_out, data.size))
        for j, pos in enumerate(np.ndindex(data.shape)):
            orig = data[pos].item()
            data[pos] = orig + eps
            with no_grad():
                plus = np.concatenate([np.asarray(o._data, np.float64).ravel()
                                       for o in _outputs(func, inputs)]) if n_out else np.zeros(0)
            data[pos] = orig - eps
            with no_grad():
                minus = np.concatenate([np.asarray(o._data, np.float64).ravel()
                                        for o in _outputs(func, inputs)]) if n_out else np.zeros(0)
            data[pos] = orig
            J[:, j] = (plus - minus) / (2 * eps)
        numeric.append(J)

    rng = np.random.default_rng(0)
    if n_out <= max_projections:
        vectors = np.eye(n_out)
    else:
        vectors = rng.standard_normal((max_projections, n_out))
    for v in vectors:
        outs = _outputs(func, inputs)
        grads, start = [], 0
        roots = []
        for o, size in zip(outs, out_sizes):
            if o.requires_grad:
                roots.append(o)
                grads.append(_make(v[start:start + size].reshape(o.shape).astype(o.dtype)))
            start += size
        if roots:
            got = grad(roots, checked, grads, allow_unused=True)
        else:
            got = [None] * len(checked)
        for k, (t, J, g) in enumerate(zip(checked, numeric, got)):
            expected = v @ J
            actual = (np.zeros(t._data.size) if g is None
                      else np.asarray(g._data, np.float64).ravel())
            if not np.allclose(actual, expected, rtol=rtol, atol=atol):
                err = np.abs(actual - expected).max()
                msg = (f"gradcheck: gradient of input {k} (shape {tuple(t.shape)}) disagrees with "
                       f"central differences: max abs error {err:.3g}\n"
                       f"analytical: {actual[:8]}\nnumerical:  {expected[:8]}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: ``gradcheck`` of the function that maps the inputs (and
    the output gradients) to ``func``'s first gradients, taken with ``create_graph=True``.

    ``grad_outputs`` default to random float64 tensors that require grad, so the check
    also covers the backward's dependence on the incoming gradient (as PyTorch's).

    >>> import axonic
    >>> x = axonic.randn(3, dtype=axonic.float64, requires_grad=True)
    >>> gradgradcheck(lambda t: t.sin() * t, (x,))
    True
    """
    inputs, checked = _checked_inputs(inputs, "gradgradcheck")
    with no_grad():
        outs = _outputs(func, inputs)
    diff_outs = [o for o in outs if o.dtype.kind == "f"]
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(_make(rng.standard_normal(o.shape), True) for o in diff_outs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    n_in = len(inputs)

    def first_grads(*args):
        xs, gos = args[:n_in], args[n_in:]
        with enable_grad():  # gradcheck calls this under no_grad for its differences
            ys = [o for o in _outputs(func, xs) if o.dtype.kind == "f"]
            pairs = [(y, g) for y, g in zip(ys, gos) if y.requires_grad]
            if not pairs:
                raise ValueError("gradgradcheck: no output of the function requires grad")
            wanted = [t for t in xs if isinstance(t, Tensor) and t.requires_grad]
            got = grad([p[0] for p in pairs], wanted, [p[1] for p in pairs],
                       create_graph=True, allow_unused=True)
        return tuple(g for g in got if g is not None and g.requires_grad)

    if not first_grads(*inputs, *grad_outputs):
        raise ValueError("gradgradcheck: the first gradients do not depend on the inputs "
                         "(nothing to differentiate twice)")
    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)

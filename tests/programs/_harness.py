"""Load one PyTorch program twice, on PyTorch and on axonic (through the import shim), and
compare what the two give on the same weights and the same batches."""

import importlib.util
import itertools
import pathlib
import sys

import numpy as np
import pytest

from axonic.compat import torch as shim

HERE = pathlib.Path(__file__).parent
_loads = itertools.count()


def load(name, on):
    """The program ``tests/programs/<name>.py`` imported as a fresh module, its ``torch``
    being real PyTorch (``on="torch"``) or axonic (``on="axonic"``)."""
    if on == "torch":
        pytest.importorskip("torch")
    module_name = f"_program_{name}_{on}_{next(_loads)}"
    spec = importlib.util.spec_from_file_location(module_name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up here
    if on == "axonic":
        with shim.installed():
            spec.loader.exec_module(module)
    else:
        spec.loader.exec_module(module)
    return module


def both(name, seed=0):
    """(the program on PyTorch, the program on axonic); PyTorch's generator seeded, so that
    the weights a test copies across are the same from run to run."""
    pt = load(name, "torch")
    pt.torch.manual_seed(seed)
    return pt, load(name, "axonic")


def numpy(x):
    """A tensor of either library (or a number, or a nested list/tuple of them) as NumPy."""
    if isinstance(x, (list, tuple)):
        return [numpy(v) for v in x]
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def copy_weights(src, dst):
    """PyTorch module ``src``'s state_dict into axonic module ``dst`` (names must agree)."""
    dst.load_state_dict({k: numpy(v).copy() for k, v in src.state_dict().items()})


def close(actual, expected, rtol=1e-4, atol=1e-5, what=""):
    """Elementwise closeness with the tolerance scaled by the largest entry of ``expected``."""
    actual, expected = numpy(actual), numpy(expected)
    assert np.shape(actual) == np.shape(expected), f"{what}: {np.shape(actual)} vs " \
        f"{np.shape(expected)}"
    scale = max(float(np.max(np.abs(expected))) if np.size(expected) else 0.0, 1.0)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale, err_msg=what)


def close_params(a_model, t_model, grads=False, **tol):
    """Every parameter (or its gradient) of the axonic model equals the PyTorch one's."""
    t_params = dict(t_model.named_parameters())
    a_params = dict(a_model.named_parameters())
    assert list(a_params) == list(t_params)
    for name, t_p in t_params.items():
        a_p = a_params[name]
        if grads:
            assert (a_p.grad is None) == (t_p.grad is None), name
            if t_p.grad is not None:
                close(a_p.grad, t_p.grad, what=f"grad of {name}", **tol)
        else:
            close(a_p, t_p, what=name, **tol)


def close_buffers(a_model, t_model, **tol):
    t_bufs = dict(t_model.named_buffers())
    for name, a_b in a_model.named_buffers():
        close(a_b, t_bufs[name], what=name, **tol)

"""The cuda test mode: the same computation on the CPU and on the device under test.

``pytest --device cuda tests/cuda`` (or ``AXONIC_TEST_DEVICE=cuda``) runs every test marked
``on_device`` with ``device="cuda"`` against the CPU: same seeds, same inputs, float32
tolerances. Without ``--device`` those tests are deselected; with ``--device cuda`` on a
machine without CuPy or a GPU they are skipped with one reason. ``--device cpu`` runs them
CPU against CPU, which checks only that the test code itself runs.
"""

from __future__ import annotations

import numpy as np

import axonic
from axonic.backend import to_numpy

RTOL, ATOL = 1e-4, 1e-5  # float32: a GPU sums in another order than the CPU


def host(x):
    """A NumPy copy of a tensor or array from any device (None stays None)."""
    if x is None:
        return None
    return to_numpy(x._data if isinstance(x, axonic.Tensor) else x)


def close(got, want, what: str, rtol=RTOL, atol=ATOL) -> None:
    """``got`` (from the device) equals ``want`` (from the CPU) to float32 tolerances."""
    got, want = host(got), host(want)
    assert (got is None) == (want is None), f"{what}: one side is None"
    if want is None:
        return
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def on(device, arrays, grad: bool = True):
    """Tensors on ``device`` from NumPy arrays; float ones become float32 leaves."""
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(axonic.tensor(a.astype(np.float32), device=device, requires_grad=grad))
        else:
            out.append(axonic.tensor(a, device=device))
    return out


def assert_on(device, t, what: str) -> None:
    """``t`` lives on ``device`` (an op that fell back to the host is a finding)."""
    if isinstance(t, axonic.Tensor):
        assert t.device == axonic.device(device), f"{what}: on {t.device}, not {device}"

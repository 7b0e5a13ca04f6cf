"""The cuda test mode, ops: every OpSpec sample on the device against the CPU (float32).

Forward values, dtypes and the gradient of every float input, with the same inputs and
the same upstream gradient on both sides; outputs and gradients must stay on the device.
"""

import numpy as np
import pytest

import axonic
from tests.cuda.device_mode import assert_on, close, on

SPECS = axonic._all_specs()
CASES = [pytest.param(s, i, id=f"{s.name}-{i}") for s in SPECS for i in range(len(s.samples))]

pytestmark = pytest.mark.on_device


def _run(spec, arrays, device):
    ts = on(device, arrays, grad=spec.grad)
    out = spec.fn(*ts)
    return ts, out


@pytest.mark.parametrize("spec,i", CASES)
def test_op_on_device_matches_cpu(spec, i, device):
    arrays = spec.make_inputs(spec.samples[i], np.random.default_rng(i))
    cpu_in, cpu_out = _run(spec, arrays, "cpu")
    dev_in, dev_out = _run(spec, arrays, device)
    outs = cpu_out if isinstance(cpu_out, tuple | list) else (cpu_out,)
    dev_outs = dev_out if isinstance(dev_out, tuple | list) else (dev_out,)
    for k, (a, b) in enumerate(zip(dev_outs, outs)):
        assert_on(device, a, f"{spec.name}: output {k}")
        close(a.detach(), b.detach(), f"{spec.name}: output {k}")
    first, dev_first = outs[0], dev_outs[0]
    if not (spec.grad and first.requires_grad and first.dtype.kind == "f"):
        return
    g = np.random.default_rng(99).standard_normal(first.shape).astype(first.dtype)
    first.backward(axonic.tensor(g))
    dev_first.backward(axonic.tensor(g, device=device))
    for k, (a, b) in enumerate(zip(dev_in, cpu_in)):
        if b.requires_grad:
            assert_on(device, a.grad, f"{spec.name}: gradient of input {k}")
            close(a.grad, b.grad, f"{spec.name}: gradient of input {k}")

"""The cuda test mode, layers and losses: the same module (same weights) on the device and
on the CPU, same inputs and upstream gradients; outputs, input and parameter gradients and
the state after the call (running statistics) must agree to float32 tolerances."""

import copy

import numpy as np
import pytest

import axonic
from tests.cuda.device_mode import assert_on, close
from tests.cuda.module_cases import LAYERS, LOSSES, Const

pytestmark = pytest.mark.on_device


def _flat(out):
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flat(o)]
    return [out] if isinstance(out, axonic.Tensor) else []


def _inputs(makers, seed, device):
    rng = np.random.default_rng(seed)
    out = []
    for make in makers:
        a = make(rng)
        if isinstance(a, Const):
            out.append(axonic.tensor(a.array, device=device))
        else:
            out.append(axonic.tensor(a, device=device, requires_grad=True))
    return out


def _call(module, makers, device):
    xs = _inputs(makers, 0, device)
    outs = _flat(module(*xs))
    grads = np.random.default_rng(99)
    total = None
    for o in outs:
        if o.requires_grad and o.dtype.kind == "f":
            g = axonic.tensor(grads.standard_normal(o.shape).astype(o.dtype), device=device)
            term = (o * g).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return xs, outs


def _check(name, factory, makers, device):
    axonic.manual_seed(0)
    cpu = factory()
    dev = copy.deepcopy(cpu).to(device)
    cpu_in, cpu_out = _call(cpu, makers, "cpu")
    dev_in, dev_out = _call(dev, makers, device)
    assert len(dev_out) == len(cpu_out)
    for k, (a, b) in enumerate(zip(dev_out, cpu_out)):
        assert_on(device, a, f"{name}: output {k}")
        close(a.detach(), b.detach(), f"{name}: output {k}")
    for k, (a, b) in enumerate(zip(dev_in, cpu_in)):
        if b.requires_grad:
            close(a.grad, b.grad, f"{name}: gradient of input {k}")
    dev_params = dict(dev.named_parameters())
    for pname, p in cpu.named_parameters():
        assert_on(device, dev_params[pname], f"{name}: parameter {pname}")
        close(dev_params[pname].grad, p.grad, f"{name}: gradient of {pname}")
    dev_state = dev.state_dict()
    for key, v in cpu.state_dict().items():
        close(dev_state[key], v, f"{name}: state {key}")


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_on_device_matches_cpu(name, device):
    factory, makers = LAYERS[name]
    _check(name, factory, makers, device)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_on_device_matches_cpu(name, device):
    factory, makers = LOSSES[name]
    _check(name, factory, makers, device)

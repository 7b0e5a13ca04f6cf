"""axonic.amp: autocast's state and GradScaler step for step against torch.amp."""

import numpy as np
import pytest
import torch

import axonic
from axonic import nn, optim


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(1, 3)).astype(np.float32), rng.normal(size=1).astype(np.float32)
    ours, theirs = nn.Linear(3, 1), torch.nn.Linear(3, 1)
    ours.load_state_dict({"weight": w, "bias": b})
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(w))
        theirs.bias.copy_(torch.tensor(b))
    return ours, theirs


# inputs per step; step 2 overflows (inf in the gradient), so that step is skipped
BATCHES = [np.ones((4, 3), np.float32) * s for s in (0.5, 1.0, 1e38, 0.25, 2.0, 1.0, 0.75)]


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_enabled_scaler_matches_torch_step_for_step():
    ours, theirs = _pair()
    o_opt = optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    o_sc = axonic.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    t_sc = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=2)
    for x in BATCHES:
        o_opt.zero_grad()
        t_opt.zero_grad()
        with axonic.amp.autocast("cpu", dtype=axonic.float32):
            o_loss = ours(axonic.tensor(x)).pow(2).mean()
        t_loss = theirs(torch.tensor(x)).pow(2).mean()
        o_sc.scale(o_loss).backward()
        t_sc.scale(t_loss).backward()
        o_sc.unscale_(o_opt)
        t_sc.unscale_(t_opt)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-5)
        o_sc.step(o_opt)
        t_sc.step(t_opt)
        o_sc.update()
        t_sc.update()
        assert o_sc.get_scale() == t_sc.get_scale()
        np.testing.assert_allclose(ours.weight.detach().numpy(),
                                   theirs.weight.detach().numpy(), rtol=1e-5, atol=1e-7)
    assert o_sc.state_dict() == t_sc.state_dict()
    assert o_sc.get_scale() != 256.0  # it backed off and grew on the way


def test_disabled_scaler_is_an_exact_no_op():
    plain, _ = _pair()
    scaled, _ = _pair()
    p_opt = optim.Adam(plain.parameters(), lr=0.1)
    s_opt = optim.Adam(scaled.parameters(), lr=0.1)
    scaler = axonic.amp.GradScaler("cpu", enabled=False)
    for x in BATCHES[:2] + BATCHES[3:]:
        for model, opt, sc in ((plain, p_opt, None), (scaled, s_opt, scaler)):
            opt.zero_grad()
            loss = model(axonic.tensor(x)).pow(2).mean()
            if sc is None:
                loss.backward()
                opt.step()
            else:
                assert sc.scale(loss) is loss
                loss.backward()
                sc.unscale_(opt)
                sc.step(opt)
                sc.update()
    assert np.array_equal(plain.weight.detach().numpy(), scaled.weight.detach().numpy())
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    assert not scaler.is_enabled()


def test_scaler_scales_lists_and_loads_state_like_torch():
    sc = axonic.amp.GradScaler("cpu", init_scale=8.0)
    a, b = sc.scale([axonic.tensor(1.0), axonic.tensor(2.0)])
    assert (a.item(), b.item()) == (8.0, 16.0)
    other = axonic.amp.GradScaler("cpu")
    theirs = torch.amp.GradScaler("cpu", init_scale=8.0, growth_factor=3.0)
    theirs.scale(torch.tensor(1.0))
    other.load_state_dict(theirs.state_dict())
    assert other.get_scale() == 8.0 and other.get_growth_factor() == 3.0


def test_cuda_scaler_without_a_gpu_disables_itself_with_torchs_warning():
    if axonic.backend.cuda_is_available():
        assert axonic.amp.GradScaler("cuda").is_enabled()
        return
    with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
        sc = axonic.amp.GradScaler()
    assert not sc.is_enabled()


def test_scaler_misuse_raises_torchs_errors():
    model, _ = _pair()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sc = axonic.amp.GradScaler("cpu")
    with pytest.raises(RuntimeError, match="GradScaler.step: attempted step but the scale"):
        sc.step(opt)
    sc.scale(model(axonic.ones(1, 3)).sum()).backward()
    sc.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        sc.unscale_(opt)
    sc.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        sc.step(opt)
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        sc.step(opt, closure=lambda: 0)
    sc.update()
    with pytest.raises(AssertionError, match="No inf checks were recorded"):
        sc.update()
    with pytest.raises(ValueError, match="GradScaler: growth_factor should be > 1, got 0.5"):
        axonic.amp.GradScaler("cpu", growth_factor=0.5)


def test_autocast_records_its_state_as_context_and_decorator():
    assert not axonic.amp.is_autocast_enabled("cpu")
    with axonic.amp.autocast("cpu", dtype=axonic.float16):
        assert axonic.amp.is_autocast_enabled("cpu")
        assert axonic.amp.get_autocast_dtype("cpu") == axonic.float16
        with axonic.amp.autocast("cpu", enabled=False):
            assert not axonic.amp.is_autocast_enabled("cpu")
    assert not axonic.amp.is_autocast_enabled("cpu")
    assert str(axonic.amp.get_autocast_dtype("cuda")) == str(
        torch.get_autocast_dtype("cuda")).replace("torch.", "")

    @axonic.autocast("cpu")
    def f(x):
        assert axonic.amp.is_autocast_enabled("cpu")
        return x * 2

    x = axonic.ones(2, requires_grad=True)
    assert f(x).dtype == np.float32  # computes in the inputs' dtype


def test_autocast_refuses_bad_arguments():
    with pytest.raises(ValueError, match="autocast: device_type must be 'cpu' or 'cuda', got "
                                         "'tpu'"):
        axonic.amp.autocast("tpu")
    with pytest.raises(ValueError, match="autocast: dtype must be a floating dtype, got int64"):
        axonic.amp.autocast("cpu", dtype=axonic.int64)


def test_custom_fwd_and_bwd_leave_functions_as_they_are():
    def fwd(x):
        return x

    assert axonic.amp.custom_fwd(fwd) is fwd
    assert axonic.amp.custom_fwd(device_type="cuda")(fwd) is fwd
    assert axonic.amp.custom_bwd(fwd) is fwd

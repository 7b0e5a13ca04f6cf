"""Every optimizer against PyTorch's on the same MLP, weights and data: parameters after each
of 25 steps (float32, rtol 1e-5 / atol 1e-6) and the final state_dict."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from tests.conftest import requires_torch, torch
from tests.optim._models import ax_loss, ax_params, data, groups, torch_loss, torch_params, weights

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, maximize=True, weight_decay=0.05)),
    ("Adam", dict(lr=1e-2, betas=(0.3, 0.9))),  # beta1 < 0.5: lerp's other branch
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.5, amsgrad=True)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, momentum=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=1e-2)),
    ("Adamax", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2, momentum_decay=1e-2, weight_decay=0.1)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=1e-2)),  # rho_t > 5 from step 6: both branches are taken
    ("RAdam", dict(lr=1e-2, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CASES]
RTOL, ATOL = 1e-5, 1e-6


def _np(v):
    if isinstance(v, axonic.Tensor):
        return v.detach().numpy()
    if torch is not None and isinstance(v, torch.Tensor):
        return v.detach().numpy()
    return v


def assert_state_dicts_match(ours: dict, theirs: dict) -> None:
    assert set(ours["state"]) == set(theirs["state"])
    for i, st in ours["state"].items():
        assert set(st) == set(theirs["state"][i]), i
        for k, v in st.items():
            a, b = _np(v), _np(theirs["state"][i][k])
            assert isinstance(v, axonic.Tensor), k
            assert a.dtype == b.dtype, (k, a.dtype, b.dtype)
            # State such as RMSprop's momentum sums quotients g / sqrt(v) that amplify the
            # frameworks' float32 gradient differences: compare relative to the tensor's scale.
            atol = 1e-5 * max(1.0, float(np.abs(b).max(initial=0)))
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=atol, err_msg=f"state {i}.{k}")
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for g, h in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(g) <= set(h), set(g) - set(h)
        for k in g:
            assert g[k] == h[k], (k, g[k], h[k])


def run_pair(name, kwargs, steps=25, split_lr=None, check=True):
    ws, (x, y) = weights(), data()
    ap, tp = ax_params(ws), torch_params(ws)
    a_opt = getattr(optim, name)(groups(ap, split_lr), **kwargs)
    t_opt = getattr(torch.optim, name)(groups(tp, split_lr), foreach=False, **kwargs)
    # maximize ascends -loss, which follows the same stable path as descending the loss
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step in range(steps):
        for opt, loss in ((a_opt, ax_loss(ap, x, y)), (t_opt, torch_loss(tp, x, y))):
            opt.zero_grad()
            (loss * sign).backward()
            opt.step()
        if check:
            # RMSprop with momentum sums g / sqrt(v) steps that amplify the frameworks' float32
            # gradient differences (1.4e-6 at step 15 with NumPy 2.4's summation order)
            atol = 5 * ATOL if name == "RMSprop" and kwargs.get("momentum") else ATOL
            for i, (a, t) in enumerate(zip(ap, tp)):
                assert a.dtype == np.float32
                np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=RTOL,
                                           atol=atol, err_msg=f"{name} step {step} param {i}")
    return a_opt, t_opt, ap, tp


@requires_torch
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_optimizer_matches_torch(name, kwargs):
    a_opt, t_opt, _, _ = run_pair(name, kwargs)
    assert_state_dicts_match(a_opt.state_dict(), t_opt.state_dict())


GROUP_CASES = [CASES[i] for i in (1, 6, 13, 17, 20, 22, 24, 27)]


@requires_torch
@pytest.mark.parametrize("name,kwargs", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_with_own_lr_match_torch(name, kwargs):
    a_opt, t_opt, _, _ = run_pair(name, kwargs, steps=10, split_lr=0.003)
    sd = a_opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sd["param_groups"][1]["lr"] == 0.003
    assert_state_dicts_match(sd, t_opt.state_dict())


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_resume_from_state_dict_is_bit_identical(name, kwargs):
    ws, (x, y) = weights(), data()

    def train(ps, opt, n):
        for _ in range(n):
            opt.zero_grad()
            ax_loss(ps, x, y).backward()
            opt.step()

    ref = ax_params(ws)
    train(ref, getattr(optim, name)(ref, **kwargs), 20)
    ps = ax_params(ws)
    opt = getattr(optim, name)(ps, **kwargs)
    train(ps, opt, 10)
    saved = opt.state_dict()
    ps2 = [nn.Parameter(axonic.tensor(p.detach().numpy().copy())) for p in ps]
    opt2 = getattr(optim, name)(ps2, lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    train(ps, opt, 0)
    train(ps2, opt2, 10)
    for a, b in zip(ref, ps2):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@requires_torch
def test_load_state_dict_from_torch_then_continue():
    """A PyTorch optimizer's state_dict loads into axonic's and the runs continue together."""
    x, y = data()
    _, t_opt, _, tp = run_pair("Adam", dict(lr=1e-2, amsgrad=True), steps=5, check=False)
    ap = [nn.Parameter(axonic.tensor(p.detach().numpy().copy())) for p in tp]
    a_opt = optim.Adam(ap, lr=1e-2, amsgrad=True)
    a_opt.load_state_dict(t_opt.state_dict())
    assert a_opt.state[ap[0]]["exp_avg"].dtype == np.float32
    for _ in range(5):
        for opt, loss in ((a_opt, ax_loss(ap, x, y)), (t_opt, torch_loss(tp, x, y))):
            opt.zero_grad()
            loss.backward()
            opt.step()
    for a, t in zip(ap, tp):
        np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL)


def test_step_keeps_float32_and_bumps_version():
    for name, kwargs in CASES:
        w = nn.Parameter(axonic.tensor([[1.0, -2.0], [0.5, 3.0]]))
        opt = getattr(optim, name)([w], **kwargs)
        arr, v = w._data, w._version
        (w * w).sum().backward()
        opt.step()
        assert w._data is arr, name  # updated in place
        assert w.dtype == np.float32, name
        assert w._version > v, name
        for st in opt.state_dict()["state"].values():
            for k, t in st.items():
                assert t.dtype == np.float32, (name, k)


def test_numpy_float64_hyperparameters_keep_float32_parameters():
    w = nn.Parameter(axonic.tensor([1.0, -2.0]))
    opt = optim.Adam([w], lr=np.float64(0.01), betas=(np.float64(0.9), np.float64(0.999)),
                     weight_decay=np.float64(0.1))
    for _ in range(3):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w.dtype == np.float32 and opt.state[w]["exp_avg_sq"].dtype == np.float32


def test_float64_parameters_stay_float64():
    w = nn.Parameter(axonic.tensor(np.array([1.0, 2.0])))
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.dtype == np.float64 and opt.state[w]["exp_avg"].dtype == np.float64


@requires_torch
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_same_gradients_give_the_same_update_as_torch(name, kwargs):
    """The optimizer arithmetic alone: PyTorch's parameters receive axonic's gradients, so
    only the update rules differ (rtol 1e-6 over 25 steps)."""
    ws, (x, y) = weights(), data()
    ap, tp = ax_params(ws), torch_params(ws)
    a_opt = getattr(optim, name)(ap, **kwargs)
    t_opt = getattr(torch.optim, name)(tp, foreach=False, **kwargs)
    for step in range(25):
        a_opt.zero_grad()
        ax_loss(ap, x, y).backward()
        for a, t in zip(ap, tp):
            t.grad = torch.tensor(a.grad.numpy().copy())
        a_opt.step()
        t_opt.step()
        for i, (a, t) in enumerate(zip(ap, tp)):
            np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=1e-6,
                                       atol=1e-7, err_msg=f"{name} step {step} param {i}")

"""optim.LBFGS takes the steps torch.optim.LBFGS takes on the same problem."""

import numpy as np
import pytest
import torch

import axonic
from axonic import nn, optim


def _problem(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(dtype)
    y = np.sin(x @ np.array([1.0, -2.0, 0.5])).astype(dtype)[:, None]
    w1, b1 = rng.normal(size=(8, 3)).astype(dtype), rng.normal(size=8).astype(dtype) * 0.1
    w2, b2 = rng.normal(size=(1, 8)).astype(dtype), np.zeros(1, dtype)
    return x, y, [w1, b1, w2, b2]


def _models(dtype):
    x, y, weights = _problem(dtype)
    ours = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).to(dtype)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 1)).to(getattr(torch, str(np.dtype(dtype))))
    ours.load_state_dict(dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], weights)))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in zip(
        ["0.weight", "0.bias", "2.weight", "2.bias"], weights)})
    return (ours, axonic.tensor(x), axonic.tensor(y)), (theirs, torch.tensor(x), torch.tensor(y))


def _run(model, x, y, opt_cls, mse, steps, **kw):
    opt = opt_cls(model.parameters(), **kw)

    def closure():
        opt.zero_grad()
        loss = mse(model(x), y)
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach()) for _ in range(steps)]
    state = opt.state_dict()["state"][0]
    return losses, [p.detach().numpy().copy() for p in model.parameters()], state


# float64: three steps of 10 iterations agree to 1e-9. float32: rounding differences grow
# along an L-BFGS trajectory (torch's own float32 run leaves its float64 run by 1e-3 after
# 30 iterations), so one step of 5 iterations is compared, where they agree to 1e-6.
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize(("dtype", "tol", "steps", "iters"), [("float64", 1e-9, 3, 10),
                                                              ("float32", 1e-5, 1, 5)])
def test_lbfgs_matches_torch(line_search_fn, dtype, tol, steps, iters):
    (om, ox, oy), (tm, tx, ty) = _models(dtype)
    kw = dict(lr=1 if line_search_fn else 0.2, max_iter=iters, history_size=5,
              line_search_fn=line_search_fn)
    o_loss, o_params, o_state = _run(om, ox, oy, optim.LBFGS, nn.MSELoss(), steps, **kw)
    t_loss, t_params, t_state = _run(tm, tx, ty, torch.optim.LBFGS, torch.nn.MSELoss(), steps,
                                     **kw)
    np.testing.assert_allclose(o_loss, t_loss, rtol=tol)
    for a, b in zip(o_params, t_params):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert (o_state["func_evals"], o_state["n_iter"]) == (t_state["func_evals"],
                                                         t_state["n_iter"])
    assert len(o_state["old_dirs"]) == len(t_state["old_dirs"])
    assert float(om[2](om[1](om[0](ox))).sub(oy).pow(2).mean()) < o_loss[0]


def test_lbfgs_solves_a_quadratic():
    w = nn.Parameter(axonic.tensor([1.5, -0.5, 3.0], dtype=axonic.float64))
    target = axonic.tensor([1.0, 2.0, -1.0], dtype=axonic.float64)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe", tolerance_grad=1e-12)

    def closure():
        opt.zero_grad()
        loss = (((w - target) ** 2) * axonic.tensor([1.0, 10.0, 100.0],
                                                    dtype=axonic.float64)).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), target.numpy(), atol=1e-4)


def test_lbfgs_refuses_bad_arguments():
    w = nn.Parameter(axonic.ones(2))
    with pytest.raises(ValueError, match="LBFGS: Invalid learning rate: -1"):
        optim.LBFGS([w], lr=-1)
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe', got "
                                         "'armijo'"):
        optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [w]}, {"params": [nn.Parameter(axonic.ones(1))]}])
    with pytest.raises(RuntimeError, match="LBFGS.step needs a closure"):
        optim.LBFGS([w]).step(None)

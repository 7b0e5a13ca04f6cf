"""A whole training loop against PyTorch's: nn.Linear layers with PyTorch's weights, a loss,
gradient clipping, an optimizer and a scheduler, step for step."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.nn.utils import clip_grad_norm_
from tests.conftest import requires_torch, torch


def _models():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    a = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))
    a.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return a, t


@requires_torch
@pytest.mark.parametrize("opt_name,opt_kw,sched_name,sched_kw", [
    ("AdamW", dict(lr=1e-2, weight_decay=0.05), "OneCycleLR", dict(max_lr=0.05, total_steps=30)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "CosineAnnealingLR", dict(T_max=10)),
    ("RMSprop", dict(lr=1e-2, centered=True), "StepLR", dict(step_size=5, gamma=0.5)),
])
def test_training_loop_matches_torch(opt_name, opt_kw, sched_name, sched_kw):
    a, t = _models()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = rng.integers(0, 3, 32)
    a_opt = getattr(optim, opt_name)(a.parameters(), **opt_kw)
    t_opt = getattr(torch.optim, opt_name)(t.parameters(), foreach=False, **opt_kw)
    a_s = getattr(optim.lr_scheduler, sched_name)(a_opt, **sched_kw)
    t_s = getattr(torch.optim.lr_scheduler, sched_name)(t_opt, **sched_kw)
    a_loss_fn, t_loss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for step in range(30):
        a_opt.zero_grad()
        t_opt.zero_grad()
        a_loss = a_loss_fn(a(axonic.tensor(x)), axonic.tensor(y))
        t_loss = t_loss_fn(t(torch.tensor(x)), torch.tensor(y))
        a_loss.backward()
        t_loss.backward()
        a_norm = clip_grad_norm_(a.parameters(), 0.5)
        t_norm = torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5, foreach=False)
        a_opt.step()
        t_opt.step()
        a_s.step()
        t_s.step()
        np.testing.assert_allclose(a_loss.item(), t_loss.item(), rtol=1e-5, err_msg=str(step))
        np.testing.assert_allclose(a_norm.item(), t_norm.item(), rtol=1e-5, err_msg=str(step))
        assert a_s.get_last_lr() == pytest.approx(t_s.get_last_lr(), rel=1e-12)
        for (k, p), q in zip(a.named_parameters(), t.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=f"{k} step {step}")

"""Every learning-rate scheduler against PyTorch's: the get_last_lr() sequence over 30+ steps
(and the momentum for OneCycleLR), and resuming from state_dict."""

import json
import math
import warnings

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.optim import lr_scheduler as ax_sched
from tests.conftest import requires_torch, torch

STEPS = 60


def _opts(opt_name="SGD", two_groups=True, **kw):
    """The same optimizer over one or two param groups, in axonic and (if present) torch."""
    def build(lib, param):
        ps = [param(), param()]
        gs = [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.05}] if two_groups else ps
        return getattr(lib.optim, opt_name)(gs, lr=0.1, **kw)
    a = build(axonic, lambda: nn.Parameter(axonic.zeros(2)))
    t = build(torch, lambda: torch.nn.Parameter(torch.zeros(2))) if torch is not None else None
    return a, t


def _make(lib, name, opt, kwargs):
    mod = ax_sched if lib is axonic else torch.optim.lr_scheduler
    if name == "SequentialLR":
        first = getattr(mod, kwargs["first"][0])(opt, **kwargs["first"][1])
        second = getattr(mod, kwargs["second"][0])(opt, **kwargs["second"][1])
        return mod.SequentialLR(opt, [first, second], milestones=kwargs["milestones"])
    if name == "ChainedScheduler":
        return mod.ChainedScheduler([getattr(mod, n)(opt, **kw) for n, kw in kwargs["parts"]])
    return getattr(mod, name)(opt, **kwargs)


def _momentum(opt):
    g = opt.param_groups
    return [grp["betas"][0] if "betas" in grp else grp.get("momentum") for grp in g]


def _run(sched, opt, steps):
    lrs, moms = [sched.get_last_lr()], [_momentum(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append(_momentum(opt))
    return lrs, moms


CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5), {}),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 30], gamma=0.3), {}),
    ("ExponentialLR", dict(gamma=0.93), {}),
    ("CosineAnnealingLR", dict(T_max=20, eta_min=0.001), {}),
    ("CosineAnnealingLR", dict(T_max=STEPS), {}),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=10), {}),
    ("LinearLR", dict(), {}),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e), {}),
    ("LambdaLR", dict(lr_lambda=[lambda e: 1 / (e + 1), lambda e: 0.5 * (e % 3)]), {}),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=STEPS, anneal_strategy="linear",
                        pct_start=0.25), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=6, steps_per_epoch=10, three_phase=True,
                        div_factor=10.0, final_div_factor=100.0), dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=STEPS, base_momentum=0.8,
                        max_momentum=0.9), "Adam"),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=STEPS, cycle_momentum=False), "Adam"),
    ("SequentialLR", dict(first=("LinearLR", dict(start_factor=0.2, total_iters=10)),
                          second=("CosineAnnealingLR", dict(T_max=40)), milestones=[10]), {}),
    ("SequentialLR", dict(first=("ExponentialLR", dict(gamma=0.9)),
                          second=("StepLR", dict(step_size=5)), milestones=[15]), {}),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97), {}),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 0.9, lambda e: 1.0 + 0.01 * e]), {}),
    ("ConstantLR", dict(factor=0.25, total_iters=8), {}),
    ("PolynomialLR", dict(total_iters=40, power=2.0), {}),
    ("PolynomialLR", dict(total_iters=25, power=0.5), {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=7, eta_min=0.001), {}),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2), {}),
    ("ChainedScheduler", dict(parts=[("ConstantLR", dict(factor=0.5, total_iters=5)),
                                     ("ExponentialLR", dict(gamma=0.95))]), {}),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=7), dict(momentum=0.9)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=0.2, step_size_up=5, step_size_down=9,
                      mode="triangular2", cycle_momentum=False), {}),
    ("CyclicLR", dict(base_lr=1e-3, max_lr=1e-2, step_size_up=4, mode="exp_range",
                      gamma=0.97, base_momentum=0.85, max_momentum=0.95), "Adam"),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6,
                      scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"), dict(momentum=0.9)),
    ("ChainedScheduler", dict(parts=[("LinearLR", dict(start_factor=0.1, total_iters=10)),
                                     ("CosineAnnealingLR", dict(T_max=30))]), {}),
]
IDS = [f"{c[0]}{i}" for i, c in enumerate(CASES)]


def _pair(name, kwargs, opt_spec):
    opt_name, kw = ("Adam", {}) if opt_spec == "Adam" else ("SGD", opt_spec)
    a_opt, t_opt = _opts(opt_name, **kw)
    return (a_opt, _make(axonic, name, a_opt, kwargs)), (t_opt, _make(torch, name, t_opt, kwargs))


@requires_torch
@pytest.mark.parametrize("name,kwargs,opt_spec", CASES, ids=IDS)
def test_scheduler_matches_torch(name, kwargs, opt_spec):
    (a_opt, a), (t_opt, t) = _pair(name, kwargs, opt_spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_lrs, t_moms = _run(t, t_opt, STEPS)
    a_lrs, a_moms = _run(a, a_opt, STEPS)
    np.testing.assert_allclose(np.array(a_lrs), np.array(t_lrs), rtol=1e-12, atol=0)
    if name in ("OneCycleLR", "CyclicLR"):
        np.testing.assert_allclose(np.array(a_moms, float), np.array(t_moms, float),
                                   rtol=1e-12, atol=0)
    for g, h in zip(a_opt.param_groups, t_opt.param_groups):
        assert g["lr"] == pytest.approx(h["lr"], rel=1e-12)
        assert g.get("initial_lr") == pytest.approx(h.get("initial_lr"), rel=1e-12)


@requires_torch
def test_cosine_annealing_matches_torch_to_1e_7_over_long_runs():
    (a_opt, a), (t_opt, t) = _pair("CosineAnnealingLR", dict(T_max=17, eta_min=1e-4), {})
    a_lrs, _ = _run(a, a_opt, 200)
    t_lrs, _ = _run(t, t_opt, 200)
    np.testing.assert_allclose(np.array(a_lrs), np.array(t_lrs), rtol=0, atol=1e-7)
    # PyTorch's recursive form tracks the closed form; so does ours
    closed = [1e-4 + (0.1 - 1e-4) * (1 + math.cos(math.pi * e / 17)) / 2 for e in range(201)]
    np.testing.assert_allclose(np.array(a_lrs)[:, 0], closed, atol=1e-9)


PLATEAU = [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.01, threshold_mode="abs"),
    dict(factor=0.5, patience=1, cooldown=2, min_lr=[0.01, 0.02]),
    dict(mode="min", factor=0.2, patience=0, threshold=0.05, min_lr=0.001, eps=1e-3),
]


@requires_torch
@pytest.mark.parametrize("kwargs", PLATEAU, ids=[str(i) for i in range(len(PLATEAU))])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 10), 0.5 + 0.02 * rng.standard_normal(50),
                              np.linspace(0.5, 0.9, 20)])
    a_opt, t_opt = _opts()
    a = ax_sched.ReduceLROnPlateau(a_opt, **kwargs)
    t = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kwargs)
    a_lrs, t_lrs = [], []
    for m in metrics:
        a.step(float(m))
        t.step(float(m))
        a_lrs.append(a.get_last_lr())
        t_lrs.append(t.get_last_lr())
    assert a_lrs == t_lrs
    assert len({tuple(x) for x in a_lrs}) > 1  # the schedule did reduce the learning rate
    assert (a.best, a.num_bad_epochs, a.cooldown_counter) == (t.best, t.num_bad_epochs,
                                                             t.cooldown_counter)


def _build(name, kwargs, opt_spec):
    opt_name, kw = ("Adam", {}) if opt_spec == "Adam" else ("SGD", opt_spec)
    opt, _ = _opts(opt_name, **kw)
    return opt, _make(axonic, name, opt, kwargs)


@pytest.mark.parametrize("name,kwargs,opt_spec", CASES, ids=IDS)
def test_resume_from_state_dict_gives_the_same_schedule(name, kwargs, opt_spec):
    opt, sched = _build(name, kwargs, opt_spec)
    full, full_m = _run(sched, opt, 20)
    opt, sched = _build(name, kwargs, opt_spec)
    first, _ = _run(sched, opt, 10)
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt2, sched2 = _build(name, kwargs, opt_spec)  # scheduler first, then the optimizer state
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.get_last_lr() == first[-1]
    rest, rest_m = _run(sched2, opt2, 10)
    assert first + rest[1:] == full
    assert rest_m == full_m[10:]


@pytest.mark.parametrize("name,kwargs,opt_spec", CASES, ids=IDS)
def test_state_dicts_survive_a_json_round_trip(name, kwargs, opt_spec):
    """Checkpoints keep these dicts as JSON (no pickle): str keys and lists must load too."""
    opt, sched = _build(name, kwargs, opt_spec)
    full, _ = _run(sched, opt, 20)
    opt, sched = _build(name, kwargs, opt_spec)
    first, _ = _run(sched, opt, 10)
    saved = json.loads(json.dumps(sched.state_dict()))
    saved_opt = opt.state_dict()
    opt2, sched2 = _build(name, kwargs, opt_spec)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    if hasattr(sched, "_get_closed_form_lr"):  # so do the closed forms
        assert sched2._get_closed_form_lr() == sched._get_closed_form_lr()
    rest, _ = _run(sched2, opt2, 10)
    assert first + rest[1:] == full


def test_reduce_lr_on_plateau_resumes_from_state_dict():
    metrics = [1.0, 0.9, 0.95, 0.97, 0.96, 0.99, 0.98, 1.0, 1.1, 1.2, 1.3, 1.4]
    opt, _ = _opts()
    ref = ax_sched.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for m in metrics:
        ref.step(m)
    opt, _ = _opts()
    s = ax_sched.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for m in metrics[:5]:
        s.step(m)
    saved_opt, saved = opt.state_dict(), s.state_dict()
    opt2, _ = _opts()
    s2 = ax_sched.ReduceLROnPlateau(opt2, patience=1, factor=0.5)
    opt2.load_state_dict(saved_opt)
    s2.load_state_dict(saved)
    for m in metrics[5:]:
        s2.step(m)
    assert s2.get_last_lr() == ref.get_last_lr() and s2.best == ref.best


def test_scheduler_with_resumed_last_epoch_needs_initial_lr():
    opt, _ = _opts()
    with pytest.raises(KeyError, match=r"StepLR: param 'initial_lr' is not specified in "
                                       r"param_groups\[0\] when resuming"):
        ax_sched.StepLR(opt, step_size=3, last_epoch=4)


@requires_torch
def test_step_with_epoch_uses_the_closed_form_like_torch():
    for name, kw in [("StepLR", dict(step_size=3)), ("ExponentialLR", dict(gamma=0.9)),
                     ("MultiStepLR", dict(milestones=[2, 6])),
                     ("CosineAnnealingLR", dict(T_max=10)),
                     ("LinearLR", dict(start_factor=0.5, total_iters=4)),
                     ("ConstantLR", dict(factor=0.5, total_iters=4)),
                     ("PolynomialLR", dict(total_iters=8, power=2.0)),
                     ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2))]:
        (a_opt, a), (t_opt, t) = _pair(name, kw, {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [3, 7, 2, 9, 4.5]:
                if name != "CosineAnnealingWarmRestarts" and e == 4.5:
                    continue  # fractional epochs are the warm-restart schedule's feature
                a.step(e)
                t.step(e)
                assert a.get_last_lr() == pytest.approx(t.get_last_lr(), rel=1e-12), (name, e)


@pytest.mark.parametrize("build,err,match", [
    (lambda o: ax_sched.StepLR("sgd", step_size=1), TypeError, "StepLR: str is not an Optimizer"),
    (lambda o: ax_sched.LinearLR(o, start_factor=0), ValueError,
     "LinearLR: start_factor expected to be greater than 0 and less or equal to 1, got 0"),
    (lambda o: ax_sched.LinearLR(o, end_factor=1.5), ValueError,
     "end_factor expected to be between 0 and 1, got 1.5"),
    (lambda o: ax_sched.LambdaLR(o, [lambda e: 1.0]), ValueError,
     r"LambdaLR: expected 2 lr_lambdas \(one per param group\), got 1"),
    (lambda o: ax_sched.OneCycleLR(o, max_lr=1.0), ValueError,
     r"must define either total_steps OR \(epochs AND steps_per_epoch\)"),
    (lambda o: ax_sched.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
     "expected positive integer total_steps, got 0"),
    (lambda o: ax_sched.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=2.0), ValueError,
     "expected float between 0 and 1 pct_start, got 2.0"),
    (lambda o: ax_sched.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"),
     ValueError, "anneal_strategy must be one of 'cos' or 'linear', got 'exp'"),
    (lambda o: ax_sched.OneCycleLR(o, max_lr=[1.0], total_steps=5), ValueError,
     "max_lr must have the same length as optimizer.param_groups: max_lr has 1 values"),
    (lambda o: ax_sched.ReduceLROnPlateau(o, factor=1.0), ValueError,
     r"ReduceLROnPlateau: factor should be < 1.0, got 1.0"),
    (lambda o: ax_sched.ReduceLROnPlateau(o, mode="avg"), ValueError,
     "mode 'avg' is unknown; use 'min' or 'max'"),
    (lambda o: ax_sched.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError,
     "threshold mode 'pct' is unknown"),
    (lambda o: ax_sched.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     r"expected 2 min_lrs \(one per param group\), got 1"),
    (lambda o: ax_sched.SequentialLR(o, [ax_sched.ExponentialLR(o, 0.9)], milestones=[3]),
     ValueError, "one milestone fewer than schedulers, got 1 schedulers and 1 milestones"),
    (lambda o: ax_sched.SequentialLR(o, [ax_sched.ReduceLROnPlateau(o)], milestones=[]),
     ValueError, "does not support ReduceLROnPlateau"),
    (lambda o: ax_sched.ConstantLR(o, factor=1.5), ValueError,
     "ConstantLR: factor expected to be between 0 and 1, got 1.5"),
    (lambda o: ax_sched.MultiplicativeLR(o, 0.9), TypeError,
     "MultiplicativeLR: lr_lambda should be a function, got float"),
    (lambda o: ax_sched.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "expected positive integer T_0, got 0"),
    (lambda o: ax_sched.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), ValueError,
     "expected integer T_mult >= 1, got 0"),
    (lambda o: ax_sched.CosineAnnealingWarmRestarts(o, T_0=5).step(-1), ValueError,
     "expected non-negative epoch, got -1"),
    (lambda o: ax_sched.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError,
     "CyclicLR: mode 'sine' is invalid and scale_fn is None"),
    (lambda o: ax_sched.CyclicLR(o, 0.1, 1.0, cycle_momentum=False, scale_fn=abs,
                                 scale_mode="epoch"), ValueError,
     "scale_mode must be 'cycle' or 'iterations', got 'epoch'"),
    (lambda o: ax_sched.CyclicLR(axonic.optim.Adagrad(o.param_groups[0]["params"]), 0.1, 1.0),
     ValueError, "CyclicLR: optimizer Adagrad must support momentum or beta1"),
    (lambda o: ax_sched.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler, got none"),
    (lambda o: ax_sched.ChainedScheduler([ax_sched.ExponentialLR(o, 0.9),
                                          ax_sched.ReduceLROnPlateau(o)]), ValueError,
     "ChainedScheduler does not support ReduceLROnPlateau"),
])
def test_scheduler_errors(build, err, match):
    opt, _ = _opts()
    with pytest.raises(err, match=match):
        build(opt)


def test_one_cycle_refuses_to_step_past_total_steps():
    opt, _ = _opts(momentum=0.9)
    s = ax_sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times; the specified "
                                         "number of total steps is 3"):
        s.step()


def test_one_cycle_needs_momentum_to_cycle_it():
    opt, _ = _opts("Adagrad")
    with pytest.raises(ValueError, match="optimizer Adagrad must support momentum or beta1"):
        ax_sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)

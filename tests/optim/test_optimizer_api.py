"""The Optimizer base: validation messages, param groups, zero_grad, closure, state."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim


def _param(*values):
    return nn.Parameter(axonic.tensor(list(values) or [1.0, 2.0]))


@pytest.mark.parametrize("cls,kwargs,match", [
    (optim.SGD, dict(lr=-1), "SGD: Invalid learning rate: -1"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero "
                                             "dampening, got momentum=0, dampening=0"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    (optim.Adam, dict(lr=-1), "Adam: Invalid learning rate: -1"),
    (optim.Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (optim.Adam, dict(betas=(0.9,)), r"betas must be a pair \(beta1, beta2\), got \(0.9,\)"),
    (optim.AdamW, dict(weight_decay=-0.1), "AdamW: Invalid weight_decay value: -0.1"),
    (optim.RMSprop, dict(lr=-0.01), "RMSprop: Invalid learning rate: -0.01"),
    (optim.RMSprop, dict(alpha=-0.9), "Invalid alpha value: -0.9"),
    (optim.RMSprop, dict(momentum=-1), "Invalid momentum value: -1"),
    (optim.Adagrad, dict(lr_decay=-1), "Adagrad: Invalid lr_decay value: -1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1),
     "Invalid initial_accumulator_value value: -1"),
    (optim.Adagrad, dict(eps=-1), "Invalid epsilon value: -1"),
    (optim.Adadelta, dict(rho=1.5), r"Adadelta: Invalid rho value: 1.5 \(expected 0 <= rho <= 1\)"),
    (optim.Adamax, dict(betas=(0.9, 1.0)), "Adamax: Invalid beta parameter at index 1: 1.0"),
    (optim.NAdam, dict(momentum_decay=-1), "NAdam: Invalid momentum_decay value: -1"),
    (optim.RAdam, dict(lr=-0.5), "RAdam: Invalid learning rate: -0.5"),
])
def test_invalid_hyperparameters_are_refused(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([_param()], **kwargs)


def test_params_must_be_an_ordered_collection_of_leaf_tensors():
    w = _param()
    with pytest.raises(TypeError, match="SGD: params should be an iterable of Tensors or dicts, "
                                        "but got a Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="got a set"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(ValueError, match="Adam: optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the "
                                        "params is list"):
        optim.SGD([[1.0]], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: a parameter appears twice \(in one group or in "
                                         r"two\); each parameter may be optimized once"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="a parameter appears twice"):
        optim.Adam([w, w])


def test_param_groups_fill_defaults_and_add_param_group():
    a, b, c = _param(), _param(), _param()
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [b]
    opt.add_param_group({"params": [c], "momentum": 0.0})
    g = opt.param_groups[2]
    assert (g["lr"], g["momentum"], g["nesterov"]) == (0.1, 0.0, False)
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1], [2]]
    with pytest.raises(TypeError, match="param_group must be a dict, got list"):
        opt.add_param_group([c])


def test_zero_grad_to_none_or_zeros():
    w = _param()
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad is not None and w.grad.tolist() == [0.0, 0.0]
    (w * w).sum().backward()
    assert w.grad.tolist() == [2.0, 4.0]
    opt.zero_grad()
    assert w.grad is None


def test_step_with_closure_returns_the_loss_and_skips_params_without_grad():
    w, unused = _param(), _param(5.0)
    opt = optim.SGD([w, unused], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0
    assert w.tolist() == [0.5, 1.0] and unused.tolist() == [5.0]


def test_state_is_keyed_by_position_and_looked_up_by_parameter():
    a, b = _param(), _param()
    opt = optim.Adam([a, b], lr=0.1)
    assert len(opt.state) == 0
    (a * a).sum().backward()
    opt.step()
    assert list(opt.state) == [a]
    assert set(opt.state[a]) == {"step", "exp_avg", "exp_avg_sq"}
    assert opt.state[a]["step"].item() == 1.0
    assert opt.state[b] == {}
    assert list(opt.state_dict()["state"]) == [0]
    with pytest.raises(KeyError, match="not one of the optimizer's parameters"):
        opt.state[_param()]


def test_load_state_dict_checks_structure():
    a, b = _param(), _param()
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state "
                                         "dict, 1 in the optimizer"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="loaded state dict has 1 parameter groups, the "
                                         "optimizer has 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"weight": 1})
    (a.sum() + b.sum()).backward()
    opt.step()
    c = nn.Parameter(axonic.zeros(3))
    other = optim.SGD([a, c], lr=0.7, momentum=0.9)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: state 'momentum_buffer' of "
                                         r"parameter 1 has shape \(2,\), the parameter has "
                                         r"shape \(3,\)"):
        other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["lr"] == 0.7 and len(other.state) == 0  # left unchanged


def test_loaded_state_is_a_copy():
    a = _param()
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    b = _param()
    opt2 = optim.SGD([b], lr=0.1, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    buf = opt2.state[b]["momentum_buffer"]
    assert buf._data is not opt.state[a]["momentum_buffer"]._data
    np.testing.assert_array_equal(buf.numpy(), opt.state[a]["momentum_buffer"].numpy())


def test_adagrad_state_exists_before_the_first_step_like_torch():
    a = _param()
    opt = optim.Adagrad([a], initial_accumulator_value=0.25)
    st = opt.state_dict()["state"][0]
    assert st["step"].item() == 0.0 and st["sum"].tolist() == [0.25, 0.25]
    c = _param()
    opt.add_param_group({"params": [c], "initial_accumulator_value": 1.0})
    assert opt.state[c]["sum"].tolist() == [1.0, 1.0]


def test_repr_lists_groups():
    opt = optim.SGD([_param()], lr=0.1)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n") and "lr: 0.1" in repr(opt)


def test_step_hooks_run_in_order_and_can_be_removed():
    w = _param()
    opt = optim.SGD([w], lr=0.5)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", w.tolist())))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", w.tolist())))
    (w * w).sum().backward()
    opt.step()
    assert calls == [("pre", [1.0, 2.0]), ("post", [0.0, 0.0])]
    pre.remove()
    opt.step()
    assert [c[0] for c in calls] == ["pre", "post", "post"]

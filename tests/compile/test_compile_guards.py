"""What makes a plan record again, read live values, or run eagerly with a warning."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import axonic
from axonic import nn
from axonic.compile import Unsupported
from tests.compile.helpers import calls, kinds, mlp, randn


def test_shape_change_records_a_second_plan():
    model = mlp()
    fast = axonic.compile(model)
    for batch in (4, 7, 4):
        got, want = calls(fast, model, randn(batch, 6, seed=batch))
        assert_array_equal(got, want)
    assert kinds(fast) == ["Plan", "Plan"]


def test_dtype_change_records_a_second_plan():
    model = mlp()
    fast = axonic.compile(model)
    calls(fast, model, randn(4, 6))
    model.double()
    got, want = calls(fast, model, randn(4, 6).double())
    assert_array_equal(got, want)
    assert got.dtype == np.float64 and kinds(fast) == ["Plan", "Plan"]


def test_optimizer_step_is_seen_by_the_plan():
    model = mlp()
    fast = axonic.compile(model)
    x = randn(5, 6)
    before, _ = calls(fast, model, x)
    opt = axonic.optim.Adam(model.parameters(), lr=0.1)
    model.train()
    model(x).sum().backward()
    opt.step()
    model.eval()
    after, want = calls(fast, model, x)
    assert_array_equal(after, want)
    assert not np.array_equal(after, before)


def test_load_state_dict_and_replaced_parameter_are_seen():
    model, other = mlp(), nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    fast = axonic.compile(model)
    x = randn(5, 6)
    calls(fast, model, x)
    model.load_state_dict(other.state_dict())
    got, want = calls(fast, model, x)
    assert_array_equal(got, want)
    with axonic.no_grad():
        assert_array_equal(got, other(x).numpy())
    model[2].weight = nn.Parameter(axonic.ones(3, 16))
    got, want = calls(fast, model, x)
    assert_array_equal(got, want)


def test_in_place_weight_change_is_seen():
    model = mlp()
    fast = axonic.compile(model)
    x = randn(5, 6)
    before, _ = calls(fast, model, x)
    with axonic.no_grad():
        model[0].bias.add_(1.0)
    model[2].weight.data.mul_(2.0)  # shares memory, not the version: still read live
    after, want = calls(fast, model, x)
    assert_array_equal(after, want)
    assert not np.array_equal(after, before)


def test_replaced_submodule_records_again():
    model = mlp()
    fast = axonic.compile(model)
    x = randn(5, 6)
    calls(fast, model, x)
    model[1] = nn.Tanh()
    got, want = calls(fast, model, x)
    assert_array_equal(got, want)
    assert kinds(fast) == ["Plan"]


def test_train_and_eval_have_their_own_plans():
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)).eval()
    fast = axonic.compile(model)
    x = randn(16, 6)
    got, want = calls(fast, model, x)
    assert_array_equal(got, want)
    model.train()
    with pytest.warns(UserWarning, match="changes .*running_mean in place"):
        with axonic.no_grad():
            fast(x)
    stats = model[1].running_mean.numpy().copy()
    with axonic.no_grad():
        fast(x)
    assert not np.array_equal(model[1].running_mean.numpy(), stats)  # eager: still updated
    assert kinds(fast) == ["Plan", "_Eager"]


def test_dropout_in_training_falls_back_to_eager_with_the_same_numbers():
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.Dropout(0.5), nn.Linear(32, 2))
    fast = axonic.compile(model)
    x = randn(8, 6)
    axonic.manual_seed(1)
    with axonic.no_grad():
        want = [model(x).numpy() for _ in range(3)]
    axonic.manual_seed(1)
    with pytest.warns(UserWarning, match="random numbers"), axonic.no_grad():
        got = [fast(x).numpy() for _ in range(3)]
    for g, w in zip(got, want):
        assert_array_equal(g, w)
    model.eval()
    got, want = calls(fast, model, x)
    assert_array_equal(got, want)
    assert kinds(fast) == ["_Eager", "Plan"]


class _Branchy(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.fc, self.how = nn.Linear(4, 4), how

    def forward(self, x):
        y = self.fc(x)
        if self.how == "item":
            return y * 2 if y.sum().item() > 0 else y * 3
        if self.how == "detached":
            return y * float(y.detach().numpy().max())
        if self.how == "argmax":
            return y[:, int(np.argmax(y._data.sum(0)))]
        if self.how == "inplace_input":
            x.add_(1.0)
            return y
        y.clamp_(-0.5, 0.5)
        return y


@pytest.mark.parametrize("how, why", [
    ("item", r"reads a tensor's value back into Python \(Tensor.item\)"),
    ("detached", r"reads a tensor's value back into Python \(Tensor.numpy\)"),
    ("argmax", "op 1 .* computed outside the recorded ops"),
    ("inplace_input", "changes input 0 in place"),
    ("inplace_result", "in-place op that a plan does not record changes the result of Linear"),
])
def test_what_a_plan_cannot_represent_runs_eagerly_after_one_warning(how, why):
    axonic.manual_seed(0)
    model = _Branchy(how)
    fast = axonic.compile(model)
    with pytest.warns(UserWarning, match=why):
        with axonic.no_grad():
            fast(randn(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in (1, 2):
            x = randn(3, 4, seed=seed)
            x2 = axonic.tensor(x.numpy().copy())
            with axonic.no_grad():
                assert_array_equal(fast(x).numpy(), model(x2).numpy())
    assert kinds(fast) == ["_Eager"]


def test_fullgraph_raises_unsupported_naming_why():
    fast = axonic.compile(_Branchy("item"), fullgraph=True)
    with pytest.raises(Unsupported, match=r"fullgraph=True.*_Branchy.*Tensor.item"):
        fast(randn(3, 4))


def test_a_call_that_needs_autograd_runs_eagerly_and_backward_works():
    model = mlp().train()
    fast = axonic.compile(model)
    x = randn(4, 6)
    with axonic.no_grad():
        fast(x)
    for _ in range(2):
        model.zero_grad()
        fast(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model(x).sum().backward()
    for g, p in zip(grads, model.parameters()):
        assert_array_equal(g, p.grad.numpy())


def test_frozen_model_replays_under_grad_mode():
    model = mlp().requires_grad_(False)
    fast = axonic.compile(model)
    x = randn(4, 6)
    for _ in range(3):
        out = fast(x)
    assert not out.requires_grad
    assert_array_equal(out.numpy(), model(x).numpy())
    assert kinds(fast) == ["Plan"]


def test_more_signatures_than_the_cache_limit_run_eagerly():
    model = mlp()
    fast = axonic.compile(model)
    with axonic.no_grad():
        for batch in range(1, 9):
            fast(randn(batch, 6))
        with pytest.warns(UserWarning, match="more than 8 signatures"):
            out = fast(randn(9, 6))
        assert_array_equal(out.numpy(), model(randn(9, 6)).numpy())


def test_bool_mask_values_are_part_of_the_signature():
    axonic.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    fast = axonic.compile(layer)
    x = randn(2, 5, 8)
    causal = axonic.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))
    other = axonic.tensor(np.triu(np.ones((5, 5), dtype=bool), 2))
    with axonic.no_grad():
        for mask in (causal, causal, other, other, causal):
            assert_array_equal(fast(x, src_mask=mask).numpy(), layer(x, src_mask=mask).numpy())
    assert kinds(fast) == ["Plan", "Plan"]


def test_a_model_that_rejects_the_changed_values_runs_eagerly():
    class Picky(nn.Module):
        def forward(self, x):
            if x._data[0] != 1.0:  # reads the array itself: no hook sees it
                raise ValueError("only ones")
            return x * 2

    fast = axonic.compile(Picky())
    x = axonic.ones(3)
    with pytest.warns(UserWarning, match="second recording, on changed values, raised "
                                         "ValueError: only ones"):
        out = fast(x)
    assert_array_equal(out.numpy(), [2.0, 2.0, 2.0])
    assert_array_equal(fast(x).numpy(), [2.0, 2.0, 2.0])


def test_forward_hooks_make_the_call_eager():
    model = mlp()
    fast = axonic.compile(model)
    x = randn(2, 6)
    calls(fast, model, x)
    seen = []
    handle = model[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with pytest.warns(UserWarning, match="module '1' has forward_hooks"):
        got, want = calls(fast, model, x)
    assert_array_equal(got, want)
    assert len(seen) == 4  # three compiled calls and one eager, all ran the hook
    handle.remove()


def test_a_weight_used_through_data_or_detach_is_read_live():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(x) @ self.fc.weight.detach() + self.fc.bias.data

    axonic.manual_seed(0)
    model = Tied().eval()
    fast = axonic.compile(model)
    x = randn(2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calls(fast, model, x)
        model.fc.weight.data = axonic.randn(4, 4)
        got, want = calls(fast, model, x)
    assert_array_equal(got, want)
    assert kinds(fast) == ["Plan"]

"""What makes a plan record again, read live values, or run eagerly with a warning."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import axonic
from axonic import nn
from axonic.compile import Unsupported


def _mlp():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()


def _x(*shape, seed=0):
    return axonic.tensor(np.random.default_rng(seed).standard_normal(shape, dtype="float32"))


def _kinds(compiled):
    return [type(p).__name__ for p in compiled.__dict__["_compiler"].plans.values()]


def _calls(compiled, model, x, n=3):
    """The compiled model's last of ``n`` calls and the eager output, under no_grad."""
    with axonic.no_grad():
        for _ in range(n):
            out = compiled(x)
        return out.numpy(), model(x).numpy()


def test_shape_change_records_a_second_plan():
    model = _mlp()
    fast = axonic.compile(model)
    for batch in (4, 7, 4):
        got, want = _calls(fast, model, _x(batch, 6, seed=batch))
        assert_array_equal(got, want)
    assert _kinds(fast) == ["Plan", "Plan"]


def test_dtype_change_records_a_second_plan():
    model = _mlp()
    fast = axonic.compile(model)
    _calls(fast, model, _x(4, 6))
    model.double()
    got, want = _calls(fast, model, _x(4, 6).double())
    assert_array_equal(got, want)
    assert got.dtype == np.float64 and _kinds(fast) == ["Plan", "Plan"]


def test_optimizer_step_is_seen_by_the_plan():
    model = _mlp()
    fast = axonic.compile(model)
    x = _x(5, 6)
    before, _ = _calls(fast, model, x)
    opt = axonic.optim.Adam(model.parameters(), lr=0.1)
    model.train()
    model(x).sum().backward()
    opt.step()
    model.eval()
    after, want = _calls(fast, model, x)
    assert_array_equal(after, want)
    assert not np.array_equal(after, before)


def test_load_state_dict_and_replaced_parameter_are_seen():
    model, other = _mlp(), nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).eval()
    fast = axonic.compile(model)
    x = _x(5, 6)
    _calls(fast, model, x)
    model.load_state_dict(other.state_dict())
    got, want = _calls(fast, model, x)
    assert_array_equal(got, want)
    with axonic.no_grad():
        assert_array_equal(got, other(x).numpy())
    model[2].weight = nn.Parameter(axonic.ones(3, 16))
    got, want = _calls(fast, model, x)
    assert_array_equal(got, want)


def test_in_place_weight_change_is_seen():
    model = _mlp()
    fast = axonic.compile(model)
    x = _x(5, 6)
    before, _ = _calls(fast, model, x)
    with axonic.no_grad():
        model[0].bias.add_(1.0)
    model[2].weight.data.mul_(2.0)  # shares memory, not the version: still read live
    after, want = _calls(fast, model, x)
    assert_array_equal(after, want)
    assert not np.array_equal(after, before)


def test_replaced_submodule_records_again():
    model = _mlp()
    fast = axonic.compile(model)
    x = _x(5, 6)
    _calls(fast, model, x)
    model[1] = nn.Tanh()
    got, want = _calls(fast, model, x)
    assert_array_equal(got, want)
    assert _kinds(fast) == ["Plan"]


def test_train_and_eval_have_their_own_plans():
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Linear(8, 2)).eval()
    fast = axonic.compile(model)
    x = _x(16, 6)
    got, want = _calls(fast, model, x)
    assert_array_equal(got, want)
    model.train()
    with pytest.warns(UserWarning, match="changes .*running_mean in place"):
        with axonic.no_grad():
            fast(x)
    stats = model[1].running_mean.numpy().copy()
    with axonic.no_grad():
        fast(x)
    assert not np.array_equal(model[1].running_mean.numpy(), stats)  # eager: still updated
    assert _kinds(fast) == ["Plan", "_Eager"]


def test_dropout_in_training_falls_back_to_eager_with_the_same_numbers():
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.Dropout(0.5), nn.Linear(32, 2))
    fast = axonic.compile(model)
    x = _x(8, 6)
    axonic.manual_seed(1)
    with axonic.no_grad():
        want = [model(x).numpy() for _ in range(3)]
    axonic.manual_seed(1)
    with pytest.warns(UserWarning, match="random numbers"), axonic.no_grad():
        got = [fast(x).numpy() for _ in range(3)]
    for g, w in zip(got, want):
        assert_array_equal(g, w)
    model.eval()
    got, want = _calls(fast, model, x)
    assert_array_equal(got, want)
    assert _kinds(fast) == ["_Eager", "Plan"]


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
            fast(_x(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in (1, 2):
            x = _x(3, 4, seed=seed)
            x2 = axonic.tensor(x.numpy().copy())
            with axonic.no_grad():
                assert_array_equal(fast(x).numpy(), model(x2).numpy())
    assert _kinds(fast) == ["_Eager"]


def test_fullgraph_raises_unsupported_naming_why():
    fast = axonic.compile(_Branchy("item"), fullgraph=True)
    with pytest.raises(Unsupported, match=r"fullgraph=True.*_Branchy.*Tensor.item"):
        fast(_x(3, 4))


def test_a_call_that_needs_autograd_runs_eagerly_and_backward_works():
    model = _mlp().train()
    fast = axonic.compile(model)
    x = _x(4, 6)
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
    model = _mlp().requires_grad_(False)
    fast = axonic.compile(model)
    x = _x(4, 6)
    for _ in range(3):
        out = fast(x)
    assert not out.requires_grad
    assert_array_equal(out.numpy(), model(x).numpy())
    assert _kinds(fast) == ["Plan"]


def test_more_signatures_than_the_cache_limit_run_eagerly():
    model = _mlp()
    fast = axonic.compile(model)
    with axonic.no_grad():
        for batch in range(1, 9):
            fast(_x(batch, 6))
        with pytest.warns(UserWarning, match="more than 8 signatures"):
            out = fast(_x(9, 6))
        assert_array_equal(out.numpy(), model(_x(9, 6)).numpy())


def test_bool_mask_values_are_part_of_the_signature():
    axonic.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).eval()
    fast = axonic.compile(layer)
    x = _x(2, 5, 8)
    causal = axonic.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))
    other = axonic.tensor(np.triu(np.ones((5, 5), dtype=bool), 2))
    with axonic.no_grad():
        for mask in (causal, causal, other, other, causal):
            assert_array_equal(fast(x, src_mask=mask).numpy(), layer(x, src_mask=mask).numpy())
    assert _kinds(fast) == ["Plan", "Plan"]


class _InPlace(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(4, 6), nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.fc(x)
        z = y * 2
        y += x.sum(1, keepdim=True)
        y.mul_(z)
        head = y[:, :2]
        head.sub_(1.0)  # through a view: changes y too
        y.masked_fill_(z > 1.0, 0.25)
        return self.act(y) + z.tanh_()


def test_in_place_ops_on_results_are_replayed_bit_for_bit():
    axonic.manual_seed(0)
    model = _InPlace().eval()
    fast = axonic.compile(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(3):
            got, want = _calls(fast, model, _x(5, 4, seed=seed))
            assert_array_equal(got, want)
    assert _kinds(fast) == ["Plan"]


def test_comparisons_and_masks_are_recorded_ops():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)

        def forward(self, tokens):
            pad = (tokens == 0) | ~(tokens < 8)
            h = self.emb(tokens).masked_fill(pad.unsqueeze(-1), 0.0)
            return h.sum(1) + axonic.floor(h).mean() + (h > 0.1).sum()

    axonic.manual_seed(0)
    model = Masked().eval()
    fast = axonic.compile(model)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            tokens = axonic.tensor(rng.integers(0, 10, (3, 6)))
            got, want = _calls(fast, model, tokens)
            assert_array_equal(got, want)
    assert _kinds(fast) == ["Plan"]


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
    model = _mlp()
    fast = axonic.compile(model)
    x = _x(2, 6)
    _calls(fast, model, x)
    seen = []
    handle = model[1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with pytest.warns(UserWarning, match="module '1' has forward_hooks"):
        got, want = _calls(fast, model, x)
    assert_array_equal(got, want)
    assert len(seen) == 4  # three compiled calls and one eager, all ran the hook
    handle.remove()


def test_ops_the_output_does_not_depend_on_are_skipped():
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 3)

        def forward(self, x):
            stats = (x.exp() * 2).sum()  # computed, never used
            del stats
            y = self.fc(x)
            y += 1.0  # an in-place write: always kept
            return y

    model = Unused().eval()
    fast = axonic.compile(model)
    got, want = _calls(fast, model, _x(4, 6))
    assert_array_equal(got, want)
    (plan,) = fast.__dict__["_compiler"].plans.values()
    assert [step[0].__name__ for step in plan.steps] == ["Linear", "InplaceUfunc"]


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
    x = _x(2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _calls(fast, model, x)
        model.fc.weight.data = axonic.randn(4, 4)
        got, want = _calls(fast, model, x)
    assert_array_equal(got, want)
    assert _kinds(fast) == ["Plan"]


class _Made(nn.Module):
    """Tensors made in forward outside the ops (as an RNN's zero state is)."""

    def __init__(self, how):
        super().__init__()
        self.fc, self.how = nn.Linear(4, 4), how

    def forward(self, x):
        state = axonic.zeros(2, 4)
        if self.how == "write_through_view":
            row = state[0]
            row += self.fc(x).sum(0)  # changes `state`, made anew by every eager call
            return state * 1.0
        return self.fc(x), state[1]  # a view of the made tensor, returned


def test_an_in_place_write_into_a_made_tensor_runs_eagerly():
    model = _Made("write_through_view").eval()
    fast = axonic.compile(model)
    with pytest.warns(UserWarning, match="in-place op changes a tensor"):
        _calls(fast, model, _x(3, 4))
    for seed in (1, 2):
        got, want = _calls(fast, model, _x(3, 4, seed=seed))
        assert_array_equal(got, want)


def test_a_returned_view_of_a_made_tensor_is_a_fresh_array_each_call():
    model = _Made("return_view").eval()
    fast = axonic.compile(model)
    x = _x(3, 4)
    with axonic.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            _, state = fast(x)
            state.add_(1.0)  # the caller's to change, as in eager
        assert_array_equal(fast(x)[1].numpy(), np.zeros(4, np.float32))
    assert _kinds(fast) == ["Plan"]

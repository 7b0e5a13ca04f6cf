"""In-place ops, ops without a gradient, dead ops and memory shared with constants in a
plan."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import axonic
from axonic import nn
from tests.compile.helpers import calls, kinds, randn


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
            got, want = calls(fast, model, randn(5, 4, seed=seed))
            assert_array_equal(got, want)
    assert kinds(fast) == ["Plan"]


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
            got, want = calls(fast, model, tokens)
            assert_array_equal(got, want)
    assert kinds(fast) == ["Plan"]


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
    got, want = calls(fast, model, randn(4, 6))
    assert_array_equal(got, want)
    (plan,) = fast.__dict__["_compiler"].plans.values()
    assert [step[0].__name__ for step in plan.steps] == ["Linear", "InplaceUfunc"]


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
        calls(fast, model, randn(3, 4))
    for seed in (1, 2):
        got, want = calls(fast, model, randn(3, 4, seed=seed))
        assert_array_equal(got, want)


def test_a_returned_view_of_a_made_tensor_is_a_fresh_array_each_call():
    model = _Made("return_view").eval()
    fast = axonic.compile(model)
    x = randn(3, 4)
    with axonic.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            _, state = fast(x)
            state.add_(1.0)  # the caller's to change, as in eager
        assert_array_equal(fast(x)[1].numpy(), np.zeros(4, np.float32))
    assert kinds(fast) == ["Plan"]

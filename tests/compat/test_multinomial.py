"""multinomial and bernoulli: PyTorch's shapes, dtypes, errors and distributions."""

import numpy as np
import pytest
import torch

import axonic

WEIGHTS = [0.1, 0.0, 0.6, 0.3]  # unnormalised weights work as well: scaled below


def _freq(idx, n):
    return np.bincount(np.asarray(idx).reshape(-1), minlength=n) / np.asarray(idx).size


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("shape", [(4,), (3, 4)])
def test_shape_and_dtype_match_torch(replacement, shape):
    w = np.abs(np.random.default_rng(0).normal(size=shape)).astype(np.float32) + 0.1
    ours = axonic.multinomial(axonic.tensor(w), 3, replacement)
    theirs = torch.multinomial(torch.tensor(w), 3, replacement)
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == "int64"


def test_with_replacement_frequencies_match_the_weights_and_torch():
    w = [x * 7 for x in WEIGHTS]
    ours = axonic.multinomial(axonic.tensor(w), 40000, replacement=True).numpy()
    theirs = torch.multinomial(torch.tensor(w), 40000, replacement=True).numpy()
    expected = np.array(WEIGHTS)
    assert np.abs(_freq(ours, 4) - expected).max() < 0.01  # 4 sigma of a binomial at n=40000
    assert np.abs(_freq(ours, 4) - _freq(theirs, 4)).max() < 0.015
    assert _freq(ours, 4)[1] == 0  # zero weight: never drawn


def test_without_replacement_draw_order_matches_torch():
    rows = np.tile(np.array(WEIGHTS, dtype=np.float32), (20000, 1))
    ours = axonic.multinomial(axonic.tensor(rows), 2).numpy()
    theirs = torch.multinomial(torch.tensor(rows), 2).numpy()
    assert (ours[:, 0] != ours[:, 1]).all()
    for k in range(2):  # first and second draw have the same law as torch's
        assert np.abs(_freq(ours[:, k], 4) - _freq(theirs[:, k], 4)).max() < 0.02
    assert np.abs(_freq(ours[:, 0], 4) - np.array(WEIGHTS)).max() < 0.015


def test_without_replacement_takes_every_category_once():
    out = axonic.multinomial(axonic.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 5)
    assert sorted(out.tolist()) == [0, 1, 2, 3, 4]


def test_zero_weights_come_last_without_replacement_as_in_torch():
    w = [0.0, 1.0, 0.0, 0.0]
    for out in (axonic.multinomial(axonic.tensor(w), 3).tolist(),
                torch.multinomial(torch.tensor(w), 3).tolist()):
        assert out[0] == 1 and len(set(out)) == 3


def test_generator_makes_draws_reproducible():
    w = axonic.tensor([[0.2, 0.3, 0.5]] * 2)
    a = axonic.multinomial(w, 6, True, generator=axonic.Generator().manual_seed(5))
    b = w.multinomial(6, True, generator=axonic.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()
    axonic.manual_seed(1)
    c = axonic.multinomial(w, 6, True)
    axonic.manual_seed(1)
    assert axonic.multinomial(w, 6, True).tolist() == c.tolist()


@pytest.mark.parametrize(("weights", "n", "replacement", "message"), [
    ([0.5, 0.5], 3, False, r"cannot sample n_sample > prob_dist.size\(-1\) samples"),
    ([0.5, -0.1], 1, True, "contains either inf, nan or element < 0"),
    ([0.5, float("nan")], 1, True, "contains either inf, nan or element < 0"),
    ([0.0, 0.0], 1, True, r"sum of probabilities <= 0"),
    ([0.5, 0.5], 0, True, "cannot sample n_sample <= 0 samples"),
])
def test_bad_distributions_are_refused_as_torch_refuses_them(weights, n, replacement, message):
    with pytest.raises(ValueError, match=message):
        axonic.multinomial(axonic.tensor(weights), n, replacement)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), n, replacement)


def test_bad_inputs_name_the_op():
    with pytest.raises(ValueError, match=r"multinomial: prob_dist must be a 1 or 2 dim"):
        axonic.multinomial(axonic.ones(2, 2, 2), 1)
    with pytest.raises(TypeError, match="multinomial: generator must be an axonic.Generator"):
        axonic.multinomial(axonic.ones(2), 1, generator=np.random.default_rng())


def test_bernoulli_draws_with_the_given_probabilities():
    p = axonic.full((40000,), 0.3)
    draws = axonic.bernoulli(p)
    assert draws.dtype == np.float32 and set(np.unique(draws.numpy())) <= {0.0, 1.0}
    assert abs(draws.numpy().mean() - 0.3) < 0.01
    assert axonic.bernoulli(axonic.tensor([0.0, 1.0])).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="bernoulli: expected 0 <= p <= 1"):
        axonic.bernoulli(axonic.tensor([1.5]))

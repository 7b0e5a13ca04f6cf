"""CTCLoss against PyTorch's on the same log-probabilities: losses for every reduction,
padded and concatenated targets, repeated labels, empty targets, shorter inputs, an
unbatched input, zero_infinity; the gradient with respect to the logits before
log_softmax (where PyTorch's and axonic's agree), a float64 gradient check with respect to
log_probs themselves, a brute-force sum over alignments, and the errors."""

import itertools

import numpy as np
import pytest
import torch

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck

RNG = np.random.default_rng(0)
T, N, C = 12, 4, 6
TARGET_LENGTHS = np.array([3, 5, 1, 0])
INPUT_LENGTHS = np.array([12, 10, 5, 7])


def _targets():
    t = RNG.integers(1, C, (N, 5))
    t[0, :3] = [2, 2, 3]  # a repeated label needs a blank between
    return t


def _both(logits, targets, reduction, **kw):
    x, tx = axonic.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    mine = nn.CTCLoss(reduction=reduction, **kw)(
        F.log_softmax(x, -1), axonic.tensor(targets), axonic.tensor(INPUT_LENGTHS),
        axonic.tensor(TARGET_LENGTHS))
    theirs = torch.nn.CTCLoss(reduction=reduction, **kw)(
        torch.log_softmax(tx, -1), torch.tensor(targets), torch.tensor(INPUT_LENGTHS),
        torch.tensor(TARGET_LENGTHS))
    return x, tx, mine, theirs


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_and_logit_gradients_match_torch(reduction, concatenated):
    logits = RNG.standard_normal((T, N, C)) * 2
    targets = _targets()
    if concatenated:
        targets = np.concatenate([targets[n, :k] for n, k in enumerate(TARGET_LENGTHS)])
    x, tx, mine, theirs = _both(logits, targets, reduction)
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    g = RNG.standard_normal(tuple(theirs.shape))
    mine.backward(axonic.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_and_unbatched_match_torch():
    logits = RNG.standard_normal((T, C)).astype(np.float32)
    lp = F.log_softmax(axonic.tensor(logits), -1)
    mine = F.ctc_loss(lp, axonic.tensor(np.array([1, 4, 4])), [9], [3], reduction="none")
    theirs = torch.nn.functional.ctc_loss(torch.log_softmax(torch.tensor(logits), -1),
                                          torch.tensor([1, 4, 4]), torch.tensor([9]),
                                          torch.tensor([3]), reduction="none")
    assert mine.dtype == axonic.float32 and mine.shape == ()
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5)


def test_zero_infinity_as_torch():
    logits = RNG.standard_normal((3, 1, 4))
    targets = np.array([[1, 1, 2]])  # needs 4 frames (a blank between the repeats): impossible
    for zero in (False, True):
        x = axonic.tensor(logits, requires_grad=True)
        tx = torch.tensor(logits, requires_grad=True)
        mine = F.ctc_loss(F.log_softmax(x, -1), axonic.tensor(targets), [3], [3],
                          reduction="sum", zero_infinity=zero)
        theirs = torch.nn.functional.ctc_loss(torch.log_softmax(tx, -1), torch.tensor(targets),
                                              torch.tensor([3]), torch.tensor([3]),
                                              reduction="sum", zero_infinity=zero)
        assert mine.item() == theirs.item() == (0.0 if zero else np.inf)
        if zero:
            mine.backward()
            theirs.backward()
            np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_the_loss_is_minus_the_log_of_the_sum_over_every_alignment():
    lp = np.log(RNG.dirichlet(np.ones(3), size=5))  # (T=5, C=3), blank 0
    target = [1, 1, 2]
    total = 0.0
    for path in itertools.product(range(3), repeat=5):
        collapsed = [k for k, _ in itertools.groupby(path) if k != 0]
        if collapsed == target:
            total += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    mine = F.ctc_loss(axonic.tensor(lp[:, None]), axonic.tensor(np.array([target])), [5], [3],
                      reduction="sum")
    assert mine.item() == pytest.approx(-np.log(total), rel=1e-12)


def test_gradient_with_respect_to_log_probs_passes_gradcheck():
    lp = axonic.tensor(np.log(RNG.dirichlet(np.ones(5), size=(7, 2))), requires_grad=True)
    targets = axonic.tensor(np.array([[1, 3, 3], [2, 4, 0]]))

    def loss(lp):
        return F.ctc_loss(lp, targets, [7, 6], [3, 2], reduction="none")
    assert gradcheck(loss, (lp,))


@pytest.mark.parametrize("call, message", [
    (lambda: F.ctc_loss(axonic.zeros(4, 1, 3), axonic.tensor(np.array([[0]])), [4], [1]),
     "ctc_loss: targets must be class indices in [0, 3) other than the blank 0"),
    (lambda: F.ctc_loss(axonic.zeros(4, 1, 3), axonic.tensor(np.array([[1]])), [5], [1]),
     "ctc_loss: input_lengths must be in [1, 4], got [5]"),
    (lambda: F.ctc_loss(axonic.zeros(4, 2, 3), axonic.tensor(np.array([1, 2])), [4, 4], [1, 2]),
     "ctc_loss: 1-d targets must hold sum(target_lengths) = 3 labels, got 2"),
    (lambda: F.ctc_loss(axonic.zeros(4, 1, 3), axonic.tensor(np.array([[1]])), [4], [1],
                        blank=3), "ctc_loss: blank must be a class index in [0, 3), got 3"),
    (lambda: nn.CTCLoss()(axonic.zeros(4, 3), axonic.tensor(np.array([1])), [4], [1, 1]),
     "CTCLoss: target_lengths must be 1 integers (one per sample), got [1, 1]"),
])
def test_errors_name_the_loss_and_the_value(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch
from tests.nn._parity import assert_layer_matches

IDX = np.array([[0, 3, 3, 9], [2, 0, 9, 9]])  # repeated rows: gradients must add up


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 3}, {"padding_idx": -1}])
def test_embedding_matches_torch(kwargs):
    ours, theirs = nn.Embedding(10, 4, **kwargs), torch.nn.Embedding(10, 4, **kwargs)
    assert_layer_matches(ours, theirs, IDX)
    assert repr(ours) == repr(theirs)
    if "padding_idx" in kwargs:
        assert not ours.weight.grad.numpy()[ours.padding_idx].any()


@requires_torch
def test_embedding_max_norm_renormalises_rows_like_torch():
    ours, theirs = nn.Embedding(10, 4, max_norm=1.0), torch.nn.Embedding(10, 4, max_norm=1.0)
    assert_layer_matches(ours, theirs, IDX)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-6)
    assert repr(ours) == repr(theirs)


def test_embedding_default_init_is_standard_normal_with_zero_padding_row():
    w = nn.Embedding(2000, 50, padding_idx=7).weight.detach().numpy()
    assert not w[7].any()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_embedding_from_pretrained_is_frozen_copy():
    table = axonic.tensor([[1.0, 2.0], [3.0, 4.0]])
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    assert emb(axonic.tensor([1])).numpy().tolist() == [[3.0, 4.0]]
    table._data[0, 0] = 9  # a copy, not a view
    assert emb.weight.detach().numpy()[0, 0] == 1


def test_embedding_gradcheck_float64():
    w = axonic.randn(5, 3, dtype=axonic.float64, requires_grad=True)
    idx = axonic.tensor([[1, 1, 4], [0, 2, 1]])
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))  # padding_idx zeroes by design


def test_embedding_errors_name_the_index_and_the_size():
    model = nn.Sequential(nn.Embedding(10, 4))
    with pytest.raises(nn.LayerInputError, match=r"^0 \(Embedding\): index 12 is out of range "
                                                 r"for 10 embeddings \(expected indices in "
                                                 r"\[0, 9\]\)"):
        model(axonic.tensor([1, 12]))
    with pytest.raises(ValueError, match=r"Embedding: expected an integer tensor of indices, "
                                         r"got float32"):
        nn.Embedding(10, 4)(axonic.tensor([1.0]))
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must be an int in \[-10, 9\], "
                                         r"got 10"):
        nn.Embedding(10, 4, padding_idx=10)
    with pytest.raises(ValueError, match=r"Embedding: embedding_dim must be a non-negative "
                                         r"integer, got -4"):
        nn.Embedding(10, -4)
    with pytest.raises(ValueError, match=r"Embedding: max_norm must be positive, got -1"):
        nn.Embedding(10, 4, max_norm=-1)
    with pytest.raises(ValueError, match=r"embedding: index -1 is out of range for 3 embeddings"):
        F.embedding(axonic.tensor([-1]), axonic.ones(3, 2))

import numpy as np
import pytest

import axonic
import axonic.nn.functional as F
from axonic import nn
from axonic.autograd import gradcheck
from tests.conftest import requires_torch, torch
from tests.nn._parity import assert_layer_matches

RNG = np.random.default_rng(0)


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "eps": 1e-3}])
def test_cosine_similarity_matches_torch(kwargs):
    ours, theirs = nn.CosineSimilarity(**kwargs), torch.nn.CosineSimilarity(**kwargs)
    assert_layer_matches(ours, theirs, _f32(4, 5), _f32(4, 5))
    assert repr(ours) == repr(theirs)


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3.0, "keepdim": True},
                                    {"eps": 0.1}])
def test_pairwise_distance_matches_torch(kwargs):
    ours, theirs = nn.PairwiseDistance(**kwargs), torch.nn.PairwiseDistance(**kwargs)
    assert_layer_matches(ours, theirs, _f32(4, 5), _f32(4, 5))


def test_distances_gradcheck_float64():
    a = axonic.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    b = axonic.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b), (a, b))
    assert gradcheck(lambda a, b: F.pairwise_distance(a, b, p=3.0), (a, b))


def test_distance_errors():
    with pytest.raises(ValueError, match=r"PairwiseDistance: p must be positive, got -1"):
        nn.PairwiseDistance(p=-1)

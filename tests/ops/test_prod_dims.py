"""prod reduces one dim at a time, as torch.prod."""
import pytest
import torch

import axonic


def test_prod_over_several_dims_is_refused_as_in_torch():
    x = axonic.ones(2, 3, 4)
    with pytest.raises(TypeError):
        torch.prod(torch.ones(2, 3, 4), (0, 1))
    with pytest.raises(TypeError, match=r"prod: dim must be one int .*got \(0, 1, 2\)"):
        axonic.prod(x, (0, 1, 2), keepdim=True)

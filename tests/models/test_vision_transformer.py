"""VisionTransformer against torchvision's architecture (written out in torch.nn with its
module names): same state_dict keys, outputs and parameter gradients."""

import numpy as np
import pytest
import torch

import axonic
from axonic.models import VisionTransformer, vit_b_16
from axonic.models._weights import load_weights

from . import torchvision_reference as tv
from .helpers import assert_param_grads_close, assert_same_keys_and_shapes, pair_input, to_axonic

SMALL = dict(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32,
             mlp_dim=64, num_classes=7)


def test_vit_b_16_state_dict_keys_match_torchvision():
    torch.manual_seed(0)
    ref = tv.VisionTransformer(224, 16, 12, 12, 768, 3072)
    assert_same_keys_and_shapes(ref, vit_b_16())


@pytest.mark.parametrize("representation_size", [None, 24])
def test_vit_matches_torchvision_forward_and_gradients(representation_size):
    torch.manual_seed(0)
    ref = tv.VisionTransformer(**SMALL, representation_size=representation_size)
    for p in ref.parameters():  # torchvision zeroes the head: make every gradient non-trivial
        torch.nn.init.normal_(p, std=0.2)
    model = to_axonic(ref, VisionTransformer(**SMALL, representation_size=representation_size))
    tx, ax = pair_input((3, 3, 32, 32))
    tout, aout = ref(tx), model(ax)
    np.testing.assert_allclose(aout.detach().numpy(), tout.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    w = np.random.default_rng(1).standard_normal((3, 7)).astype(np.float32)
    (tout * torch.tensor(w)).sum().backward()
    (aout * axonic.tensor(w)).sum().backward()
    assert_param_grads_close(ref, model, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(ax.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-6)


def test_vit_loads_weights_from_an_npz_file(tmp_path):
    torch.manual_seed(0)
    ref = tv.VisionTransformer(**SMALL).eval()
    torch.nn.init.normal_(ref.heads.head.weight, std=0.1)
    np.savez(tmp_path / "vit.npz", **{k: v.numpy() for k, v in ref.state_dict().items()})
    model = load_weights(VisionTransformer(**SMALL), tmp_path / "vit.npz").eval()
    tx, ax = pair_input((2, 3, 32, 32))
    np.testing.assert_allclose(model(ax).detach().numpy(), ref(tx).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_vit_initialisation_follows_torchvision():
    model = VisionTransformer(**SMALL)
    assert np.all(model.heads.head.weight.detach().numpy() == 0)
    assert np.all(model.class_token.detach().numpy() == 0)
    std = model.encoder.pos_embedding.detach().numpy().std()
    assert 0.015 < std < 0.025


def test_vit_errors_name_the_bad_argument():
    with pytest.raises(ValueError, match="VisionTransformer: image_size must be divisible by "
                                         "patch_size, got image_size=30 and patch_size=8"):
        VisionTransformer(**{**SMALL, "image_size": 30})
    with pytest.raises(ValueError, match="VisionTransformer: num_heads must be a positive int, "
                                         "got 0"):
        VisionTransformer(**{**SMALL, "num_heads": 0})
    with pytest.raises(FileNotFoundError, match="weights: no such file: '.*missing.npz'"):
        load_weights(VisionTransformer(**SMALL), "missing.npz")
    with pytest.raises(ValueError, match="VisionTransformer: weights must be None, a "
                                         "state_dict or the path"):
        vit_b_16(weights=[1])
    with pytest.raises(ValueError, match="conv_stem_configs is not supported"):
        VisionTransformer(**SMALL, conv_stem_configs=[1])
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 3, 32, 32\), got "
                                         r"\(2, 3, 28, 28\)"):
        VisionTransformer(**SMALL)(axonic.randn(2, 3, 28, 28))

"""LayerGradCam + interpolate, GuidedBackprop, GuidedGradCam, Occlusion and FeatureAblation
against Captum on the same weights and inputs."""

import numpy as np
import pytest

import axonic
from axonic.explain import (
    FeatureAblation,
    GuidedBackprop,
    GuidedGradCam,
    LayerAttribution,
    LayerGradCam,
    Occlusion,
)
from tests.explain._models import TOL, cnn_pair, inputs, mlp_pair, rel_err, torch

captum_attr = pytest.importorskip("captum.attr")
DTYPES = ["float64", "float32"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", ["0", "2"])
@pytest.mark.parametrize("relu", [False, True])
def test_layer_grad_cam_matches_captum(dtype, layer, relu):
    ours, theirs, = cnn_pair(dtype)
    x, tx = inputs((3, 1, 8, 8), dtype)
    got = LayerGradCam(ours, layer).attribute(x, target=1, relu_attributions=relu)
    want = captum_attr.LayerGradCam(theirs, theirs[int(layer)]).attribute(
        tx, target=1, relu_attributions=relu)
    assert got.shape == tuple(want.shape)
    assert rel_err(got, want) < TOL[dtype]


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [(8, 8), (13, 5)])
def test_layer_attribution_interpolate_matches_captum(mode, size):
    ours, theirs = cnn_pair("float64")
    x, tx = inputs((2, 1, 8, 8))
    cam = LayerGradCam(ours, ours[2]).attribute(x, target=0)
    tcam = captum_attr.LayerGradCam(theirs, theirs[2]).attribute(tx, target=0)
    got = LayerAttribution.interpolate(cam, size, mode)
    want = captum_attr.LayerAttribution.interpolate(tcam, size, mode)
    assert rel_err(got, want) < 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_guided_backprop_matches_captum(kind, dtype):
    ours, theirs = mlp_pair(dtype) if kind == "mlp" else cnn_pair(dtype)
    x, tx = inputs((4, 5) if kind == "mlp" else (3, 1, 8, 8), dtype)
    got = GuidedBackprop(ours).attribute(x, target=2)
    want = captum_attr.GuidedBackprop(theirs).attribute(tx, target=2)
    assert rel_err(got, want) < TOL[dtype]
    plain = captum_attr.Saliency(theirs).attribute(tx.clone(), target=2, abs=False)
    assert rel_err(got, plain) > 1e-3  # the guided rule changed the gradient


@pytest.mark.parametrize("dtype", DTYPES)
def test_guided_grad_cam_matches_captum(dtype):
    ours, theirs = cnn_pair(dtype)
    x, tx = inputs((3, 1, 8, 8), dtype)
    got = GuidedGradCam(ours, "2").attribute(x, target=0)
    want = captum_attr.GuidedGradCam(theirs, theirs[2]).attribute(tx, target=0)
    assert rel_err(got, want) < TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("window,strides", [((1, 3, 3), 1), ((1, 3, 3), (1, 2, 2)),
                                            ((1, 4, 2), (1, 3, 2))])
def test_occlusion_matches_captum_on_a_cnn(dtype, window, strides):
    ours, theirs = cnn_pair(dtype)
    x, tx = inputs((2, 1, 8, 8), dtype)
    got = Occlusion(ours).attribute(x, window, strides=strides, baselines=0.5, target=1,
                                    perturbations_per_eval=4)
    want = captum_attr.Occlusion(theirs).attribute(tx, window, strides=strides,
                                                   baselines=0.5, target=1)
    assert rel_err(got, want) < TOL[dtype]


def test_occlusion_matches_captum_on_an_mlp():
    ours, theirs = mlp_pair()
    x, tx = inputs((4, 5))
    got = Occlusion(ours).attribute(x, (2,), strides=1, target=[0, 1, 2, 0])
    want = captum_attr.Occlusion(theirs).attribute(tx, (2,), strides=1, target=[0, 1, 2, 0])
    assert rel_err(got, want) < 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
def test_feature_ablation_matches_captum(dtype):
    ours, theirs = mlp_pair(dtype)
    x, tx = inputs((4, 5), dtype)
    got = FeatureAblation(ours).attribute(x, target=1, perturbations_per_eval=3)
    want = captum_attr.FeatureAblation(theirs).attribute(tx, target=1)
    assert rel_err(got, want) < TOL[dtype]


def test_feature_ablation_with_a_feature_mask_matches_captum():
    ours, theirs = cnn_pair()
    x, tx = inputs((2, 1, 8, 8))
    mask = (np.arange(64).reshape(1, 1, 8, 8) // 16).astype(np.int64)
    got = FeatureAblation(ours).attribute(x, target=2, feature_mask=axonic.tensor(mask),
                                          baselines=-1.0)
    want = captum_attr.FeatureAblation(theirs).attribute(
        tx, target=2, feature_mask=torch.tensor(mask), baselines=-1.0)
    assert rel_err(got, want) < 1e-5

"""KernelShap and Lime adapters over the shap and lime packages."""

import sys

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.explain import KernelShap, Lime
from tests.explain._models import cnn_pair, inputs, mlp_pair

pytest.importorskip("shap")
pytest.importorskip("lime")


def _f(model, x):
    return model(axonic.tensor(x)).detach().numpy()


def test_kernel_shap_sums_to_output_minus_expected_output():
    model, _ = mlp_pair(act="tanh")
    x, _ = inputs((3, 5))
    background = np.random.default_rng(3).normal(size=(12, 5))
    attr = KernelShap(model).attribute(x, baselines=axonic.tensor(background), target=2,
                                       n_samples=200)
    want = _f(model, x.numpy())[:, 2] - _f(model, background)[:, 2].mean()
    assert np.allclose(attr.numpy().sum(axis=1), want, atol=1e-8)


def test_kernel_shap_is_exact_on_a_linear_model():
    axonic.manual_seed(0)
    model = nn.Linear(4, 2).double()
    x, _ = inputs((2, 4))
    attr = KernelShap(model).attribute(x, target=0, baselines=0.5, n_samples=100)
    w = model.weight.detach().numpy()[0]
    assert np.allclose(attr.numpy(), w * (x.numpy() - 0.5), atol=1e-8)


def test_kernel_shap_agrees_with_captum_on_a_linear_model():
    captum_attr = pytest.importorskip("captum.attr")
    torch = pytest.importorskip("torch")
    axonic.manual_seed(1)
    model = nn.Linear(4, 3).double()
    theirs = torch.nn.Linear(4, 3).double()
    theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                            for k, v in model.state_dict().items()})
    x, tx = inputs((2, 4))
    got = KernelShap(model).attribute(x, target=1, n_samples=100)
    want = captum_attr.KernelShap(theirs).attribute(tx, target=1, n_samples=200)
    assert np.allclose(got.numpy(), want.detach().numpy(), atol=1e-6)


def test_kernel_shap_feature_mask_groups_features():
    model, _ = cnn_pair()
    x, _ = inputs((1, 1, 8, 8))
    mask = (np.arange(64).reshape(1, 1, 8, 8) // 16)
    attr = KernelShap(model).attribute(x, target=0, feature_mask=mask, n_samples=50).numpy()
    assert len(np.unique(attr)) <= 4
    want = _f(model, x.numpy())[0, 0] - _f(model, np.zeros((1, 1, 8, 8)))[0, 0]
    assert np.isclose(sum(attr[0, 0, 2 * k, 0] for k in range(4)), want, atol=1e-8)


def test_lime_recovers_the_weights_of_a_tabular_linear_model():
    axonic.manual_seed(0)
    model = nn.Linear(6, 2).double()
    x = axonic.tensor(np.ones((1, 6)))
    attr = Lime(model).attribute(x, target=1, n_samples=300).numpy()[0]
    w = model.weight.detach().numpy()[1]
    assert np.corrcoef(attr, w)[0, 1] > 0.99


def test_lime_finds_the_superpixel_an_image_model_reads():
    class TopLeft(nn.Module):
        def forward(self, x):
            return x[:, :, :4, :4].sum(axis=(1, 2, 3)).reshape(-1, 1) * axonic.tensor([[1.0]])

    x = axonic.tensor(np.ones((2, 1, 8, 8)))
    mask = np.kron(np.arange(4).reshape(2, 2), np.ones((4, 4))).reshape(1, 1, 8, 8)
    attr = Lime(TopLeft()).attribute(x, target=0, feature_mask=mask, n_samples=100).numpy()
    assert attr.shape == (2, 1, 8, 8)
    assert np.all(attr[:, :, :4, :4] > 5 * np.abs(attr[:, :, 4:, 4:]).max())


def test_missing_shap_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "shap", None)
    with pytest.raises(ImportError, match=r"pip install 'axonic\[explain\]'"):
        KernelShap(nn.Linear(2, 2)).attribute(axonic.randn(1, 2), target=0)


def test_surrogate_errors_name_the_method_and_shapes():
    with pytest.raises(ValueError, match=r"Lime: feature_mask of shape \(3,\) must broadcast"):
        Lime(nn.Linear(2, 2)).attribute(axonic.randn(1, 2), target=0, feature_mask=np.ones(3))

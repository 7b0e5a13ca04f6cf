"""Saliency, InputXGradient, IntegratedGradients and NoiseTunnel against Captum."""

import numpy as np
import pytest

from axonic.explain import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from tests.explain._models import TOL, cnn_pair, inputs, mlp_pair, rel_err, torch

captum_attr = pytest.importorskip("captum.attr")

DTYPES = ["float64", "float32"]


def _pair(kind, dtype):
    if kind == "mlp":
        return mlp_pair(dtype) + inputs((4, 5), dtype)
    return cnn_pair(dtype) + inputs((3, 1, 8, 8), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("abs_", [True, False])
def test_saliency_matches_captum(kind, dtype, abs_):
    ours, theirs, x, tx = _pair(kind, dtype)
    got = Saliency(ours).attribute(x, target=2, abs=abs_)
    want = captum_attr.Saliency(theirs).attribute(tx.requires_grad_(), target=2, abs=abs_)
    assert rel_err(got, want) < TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_input_x_gradient_matches_captum_with_per_example_targets(kind, dtype):
    ours, theirs, x, tx = _pair(kind, dtype)
    target = [i % 3 for i in range(x.shape[0])]
    got = InputXGradient(ours).attribute(x, target=target)
    want = captum_attr.InputXGradient(theirs).attribute(tx.requires_grad_(), target=target)
    assert rel_err(got, want) < TOL[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid", "riemann_left",
                                    "riemann_middle", "riemann_right"])
def test_integrated_gradients_matches_captum(kind, dtype, method):
    ours, theirs, x, tx = _pair(kind, dtype)
    baseline = 0.1 * np.ones(tuple(x.shape), dtype=dtype)
    got, delta = IntegratedGradients(ours).attribute(
        x, baselines=_ax(baseline), target=1, n_steps=20, method=method,
        return_convergence_delta=True)
    want, want_delta = captum_attr.IntegratedGradients(theirs).attribute(
        tx, baselines=torch.tensor(baseline), target=1, n_steps=20, method=method,
        return_convergence_delta=True)
    assert rel_err(got, want) < TOL[dtype]
    assert np.allclose(delta.numpy(), want_delta.numpy(), atol=10 * TOL[dtype])


def _ax(array):
    import axonic

    return axonic.tensor(array)


def test_integrated_gradients_internal_batch_size_gives_the_same_answer():
    ours, _, x, _ = _pair("mlp", "float64")
    ig = IntegratedGradients(ours)
    whole = ig.attribute(x, target=0, n_steps=30)
    chunked = ig.attribute(x, target=0, n_steps=30, internal_batch_size=7)
    assert np.allclose(whole.numpy(), chunked.numpy(), rtol=1e-12, atol=1e-14)


def test_integrated_gradients_is_complete_on_a_smooth_mlp():
    ours, _, x, _ = mlp_pair("float64", act="tanh") + inputs((6, 5))
    attr, delta = IntegratedGradients(ours).attribute(x, target=2, n_steps=50,
                                                      return_convergence_delta=True)
    out = ours(x).detach().numpy()[:, 2]
    base = ours(_ax(np.zeros((6, 5)))).detach().numpy()[:, 2]
    total = attr.numpy().sum(axis=1)
    assert np.abs(total - (out - base)).max() <= 1e-3 * np.abs(out - base).max()
    assert np.allclose(delta.numpy(), total - (out - base), atol=1e-12)


def _captum_noise(tx, nt_samples, stdev, seed):
    torch.manual_seed(seed)
    size = (tx.shape[0] * nt_samples,) + tuple(tx.shape[1:])
    return torch.normal(0, torch.tensor(stdev).repeat(size)).numpy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nt_type", ["smoothgrad", "smoothgrad_sq", "vargrad"])
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_noise_tunnel_matches_captum_with_the_same_noise(kind, dtype, nt_type):
    ours, theirs, x, tx = _pair(kind, dtype)
    noise = _captum_noise(tx, 6, 0.3, seed=5)
    got = NoiseTunnel(Saliency(ours)).attribute(x, nt_type=nt_type, nt_samples=6, stdevs=0.3,
                                                target=1, noise=noise)
    torch.manual_seed(5)
    want = captum_attr.NoiseTunnel(captum_attr.Saliency(theirs)).attribute(
        tx, nt_type=nt_type, nt_samples=6, stdevs=0.3, target=1)
    assert rel_err(got, want) < TOL[dtype]


def test_noise_tunnel_over_integrated_gradients_matches_captum_with_delta():
    ours, theirs, x, tx = _pair("mlp", "float64")
    noise = _captum_noise(tx, 3, 0.2, seed=2)
    got, delta = NoiseTunnel(IntegratedGradients(ours)).attribute(
        x, nt_samples=3, stdevs=0.2, target=0, n_steps=10, noise=noise,
        return_convergence_delta=True)
    torch.manual_seed(2)
    want, want_delta = captum_attr.NoiseTunnel(captum_attr.IntegratedGradients(theirs)).attribute(
        tx, nt_samples=3, stdevs=0.2, target=0, n_steps=10, return_convergence_delta=True)
    assert rel_err(got, want) < 1e-5
    assert np.allclose(delta.numpy(), want_delta.numpy(), atol=1e-6)

"""NT-Xent against a PyTorch reference of SimCLR's loss; gradcheck; the SSL example."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic.autograd import gradcheck
from axonic.nn.contrastive import NTXentLoss, nt_xent_loss
from tests.conftest import torch


def _torch_nt_xent(z1, z2, temperature):
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(len(z), dtype=torch.bool), float("-inf"))
    n = len(z1)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return torch.nn.functional.cross_entropy(sim, target)


@pytest.mark.parametrize("temperature", [0.07, 0.5, 1.0])
def test_nt_xent_matches_a_torch_simclr_reference(temperature):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 6, 5)).astype(np.float32)
    ours = [axonic.tensor(v, requires_grad=True) for v in (a, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, b)]
    loss = NTXentLoss(temperature)(*ours)
    ref = _torch_nt_xent(*theirs, temperature)
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-5)
    loss.backward()
    ref.backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_nt_xent_gradcheck_float64():
    rng = np.random.default_rng(1)
    a, b = (axonic.tensor(v, requires_grad=True) for v in rng.standard_normal((2, 4, 3)))
    assert gradcheck(lambda x, y: nt_xent_loss(x, y, 0.3), (a, b))


def test_nt_xent_is_low_when_views_agree_and_high_when_they_do_not():
    z = axonic.tensor(np.eye(4, dtype=np.float32))
    shuffled = axonic.tensor(np.eye(4, dtype=np.float32)[[1, 2, 3, 0]])
    assert nt_xent_loss(z, z, 0.1).item() < 0.01 < 1.0 < nt_xent_loss(z, shuffled, 0.1).item()


@pytest.mark.parametrize("call,message", [
    (lambda: NTXentLoss(temperature=0), "NTXentLoss: temperature must be positive, got 0"),
    (lambda: nt_xent_loss(axonic.ones(3, 2), axonic.ones(3, 2), -1.0),
     "nt_xent_loss: temperature must be positive, got -1.0"),
    (lambda: nt_xent_loss(axonic.ones(3, 2), axonic.ones(4, 2)),
     "nt_xent_loss: z1 and z2 must be (batch, features) of the same shape, got (3, 2) and "
     "(4, 2)"),
])
def test_nt_xent_errors_give_the_values(call, message):
    with pytest.raises(ValueError) as e:
        call()
    assert message in str(e.value)


def _example():
    path = Path(__file__).resolve().parents[2] / "examples" / "ssl_digits.py"
    spec = importlib.util.spec_from_file_location("ssl_digits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_augment_makes_different_views_of_the_same_digit():
    ex = _example()
    x = axonic.data.get_dataset("digits").tensors[0].numpy()[:5]
    rng = np.random.default_rng(1)
    v1, v2 = ex.augment(x, rng), ex.augment(x, rng)
    assert v1.shape == x.shape and not np.allclose(v1, v2)
    # averaged over many views (a blur of the digit), a digit is most like itself
    for k in range(5):
        mean_view = ex.augment(np.repeat(x[k:k + 1], 300, 0), rng).mean(0)
        assert np.argmax([np.corrcoef(mean_view, other)[0, 1] for other in x]) == k


def test_ssl_example_runs_and_probes_every_encoder(capsys):
    results = _example().main(steps=10, probe_steps=80)
    assert set(results) == {"SimCLR", "denoising autoencoder", "random init"}
    assert min(results.values()) > 0.3  # chance is 0.1
    out = capsys.readouterr().out
    assert "linear probe on SimCLR features" in out


@pytest.mark.slow
def test_simclr_features_beat_random_features_in_a_linear_probe(capsys):
    results = _example().main()
    assert results["SimCLR"] > results["random init"] + 0.03, results

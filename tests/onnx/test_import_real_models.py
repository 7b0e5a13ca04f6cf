"""Real ONNX models shipped inside PyPI wheels, run by axonic and by onnxruntime on the
same inputs: rapidocr_onnxruntime's text-direction classifier (PaddleOCR mobile v2.0, opset
11) and the silero-vad voice-activity models (opsets 15, 16 and 18; If subgraphs, LSTM)."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

from axonic.onnx.load_model import load

ort = pytest.importorskip("onnxruntime")


def _package_file(package: str, relative: str) -> str:
    # find_spec does not run the package's __init__ (rapidocr's imports OpenCV)
    spec = importlib.util.find_spec(package)
    assert spec is not None, (f"{package} is not installed: pip install --no-deps {package}; "
                              ".ci/run installs it")
    path = pathlib.Path(spec.submodule_search_locations[0]) / relative
    assert path.is_file(), f"{path} is missing from the installed {package}"
    return str(path)


def _onnxruntime(path, feeds):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _text_crops():
    """Two 48 x 192 crops of scikit-learn's sample photo, normalised as rapidocr does, the
    second upside down (what the classifier detects)."""
    from sklearn.datasets import load_sample_image

    img = load_sample_image("china.jpg")[100:148, 200:392].astype(np.float32)
    x = (img / 255.0 - 0.5) / 0.5
    x = np.stack([x, x[::-1, ::-1]]).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x)


def test_rapidocr_text_direction_classifier_matches_onnxruntime():
    path = _package_file("rapidocr_onnxruntime", "models/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    x = _text_crops()
    (expected,) = _onnxruntime(path, {"x": x})
    got = load(path)(x)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-4, atol=1e-4)
    assert got.shape == (2, 2)


def test_rapidocr_classifier_weights_written_as_constants_are_trainable():
    path = _package_file("rapidocr_onnxruntime", "models/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    frozen = load(path, constants_as_parameters=False)
    assert list(frozen.parameters()) == []  # Paddle2ONNX writes the weights as Constant nodes
    model = load(path)
    params = list(model.parameters())
    assert len(params) == 213 and sum(p.numel() for p in params) == 133628
    x = _text_crops()
    np.testing.assert_allclose(model(x).detach().numpy(), frozen(x).detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    model(x)[:, 0].sum().backward()
    assert all(p.grad is not None for p in params)


def _audio(n, rate):
    """A 440 Hz tone in noise, then silence: speech-like and speech-free chunks."""
    t = np.arange(n) / rate
    rng = np.random.default_rng(0)
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * (t < t[-1] / 2)
    return (tone + 0.01 * rng.standard_normal(n)).astype(np.float32)


@pytest.mark.parametrize("name, rate", [
    ("silero_vad.onnx", 16000), ("silero_vad.onnx", 8000),
    ("silero_vad_16k_op15.onnx", 16000),  # a 16 kHz-only model
    ("silero_vad_op18_ifless.onnx", 16000), ("silero_vad_op18_ifless.onnx", 8000)])
def test_silero_vad_streaming_matches_onnxruntime(name, rate):
    path = _package_file("silero_vad", f"data/{name}")
    model = load(path)
    chunk = 512 if rate == 16000 else 256
    audio = _audio(chunk * 6, rate).reshape(6, 1, chunk)
    audio = np.concatenate([audio, audio[::-1] * 0.5], axis=1)  # batch of 2 streams
    sr = np.array(rate, dtype=np.int64)
    state_ax = state_ort = np.zeros((2, 2, 128), dtype=np.float32)
    for x in audio:  # stream chunk by chunk, carrying the LSTM state as a real caller does
        p_ort, state_ort = _onnxruntime(path, {"input": x, "state": state_ort, "sr": sr})
        p_ax, state_ax = model(input=x, state=state_ax, sr=sr)
        np.testing.assert_allclose(p_ax.detach().numpy(), p_ort, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(state_ax.detach().numpy(), state_ort, rtol=1e-4, atol=1e-4)
        state_ax = state_ax.detach().numpy()


def test_silero_vad_half_precision_graph_matches_onnxruntime():
    path = _package_file("silero_vad", "data/silero_vad_half.onnx")
    x = _audio(1024, 16000).reshape(2, 512)
    state = np.zeros((2, 2, 128), dtype=np.float32)
    expected = _onnxruntime(path, {"input": x, "state": state})
    got = load(path)(x, state)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.detach().numpy(), e, rtol=1e-4, atol=1e-4)

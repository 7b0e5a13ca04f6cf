"""``axonic export RUN --format onnx --out model.onnx``: the file takes raw samples as
``axonic predict`` does (standardisation included) and gives the run's model outputs."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.datasets import load_iris

import axonic
from axonic.cli.main import _load_run, main
from axonic.onnx import OnnxExportError

IRIS = """
name = "iris_mlp"
seed = 1
epochs = 3
[data]
dataset = "iris"
batch_size = 16
transforms = [{ type = "Standardize" }]
[model]
layers = [
  { type = "Linear", in_features = 4, out_features = 16 },
  { type = "ReLU" },
  { type = "Linear", in_features = 16, out_features = 3 },
]
[optimizer]
type = "Adam"
lr = 0.01
[callbacks]
plotter = false
"""


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("iris")
    cfg = root / "iris.toml"
    cfg.write_text(IRIS)
    assert main(["train", str(cfg), "--out", str(root / "run"), "--quiet"]) == 0
    return root / "run"


def test_export_command_writes_an_onnx_file_that_matches_the_run(iris_run, tmp_path, capsys):
    out = tmp_path / "iris.onnx"
    assert main(["export", str(iris_run), "--format", "onnx", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    X = load_iris().data.astype(np.float32)  # raw measurements, all 150 in one batch
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"input": X})[0]
    _, pre, model = _load_run(iris_run)
    st = pre["standardize"]
    with axonic.no_grad():
        want = model(axonic.tensor((X - np.float32(st["mean"])) / np.float32(st["std"])))
    want = want.numpy()
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    assert (got.argmax(1) == want.argmax(1)).all()


def test_export_command_refuses_an_unknown_format(iris_run, capsys):
    with pytest.raises(SystemExit) as e:
        main(["export", str(iris_run), "--format", "tflite"])
    assert e.value.code == 2
    assert "invalid choice: 'tflite' (choose from 'onnx')" in capsys.readouterr().err


def test_export_command_on_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("axonic export: error: ") and "is not a run directory" in err


def test_export_command_reports_an_unexportable_model_in_one_line(iris_run, tmp_path,
                                                                  monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise OnnxExportError("axonic.onnx.export: op 'Cumsum' in 1 (Cumulative): has no "
                              "ONNX mapping")

    monkeypatch.setattr(axonic.onnx, "export", refuse)
    assert main(["export", str(iris_run), "--out", str(tmp_path / "m.onnx")]) == 2
    assert "axonic export: error: axonic.onnx.export: op 'Cumsum'" in capsys.readouterr().err

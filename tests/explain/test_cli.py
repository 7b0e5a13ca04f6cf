"""``axonic explain`` on a trained run, and diagnostics on by default in ``axonic train``."""

import json
from pathlib import Path

import numpy as np
import pytest

from axonic.cli.main import main

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    assert main(["train", "--epochs", "1", "--out", str(run), "--quiet"]) == 0
    return run


@pytest.fixture
def digits_input(tmp_path):
    from sklearn.datasets import load_digits

    path = tmp_path / "x.npy"
    np.save(path, (load_digits().data[:4] / 16.0).astype(np.float32))
    return path


def test_train_reports_the_diagnostics_findings_and_writes_the_report(digits_run):
    result = json.loads((digits_run / "test_metrics.json").read_text())
    assert result["findings"] == []
    page = (digits_run / "report.html").read_text()
    for section in ('id="curves"', 'id="gradients"', 'id="confusion"', 'id="findings"'):
        assert section in page


@pytest.mark.parametrize("method", ["integrated_gradients", "saliency", "grad_cam",
                                    "guided_grad_cam", "occlusion"])
def test_explain_writes_a_heat_map_and_the_attributions(digits_run, digits_input, tmp_path,
                                                        method, capsys):
    out, save = tmp_path / "heat.png", tmp_path / "attr.npy"
    assert main(["explain", str(digits_run), str(digits_input), "--method", method,
                 "--target", "3", "--n-steps", "8", "--out", str(out), "--save",
                 str(save)]) == 0
    assert out.stat().st_size > 1000
    attr = np.load(save)
    assert attr.shape == (4, 1, 8, 8) and np.abs(attr).sum() > 0
    assert f"wrote {out} ({method}, sample 0, target 3)" in capsys.readouterr().out


def test_explain_integrated_gradients_matches_the_library(digits_run, digits_input, tmp_path):
    import axonic
    from axonic.cli.data import standardize
    from axonic.cli.main import _load_run
    from axonic.explain import IntegratedGradients

    save = tmp_path / "attr.npy"
    assert main(["explain", str(digits_run), str(digits_input), "--target", "3", "--out",
                 str(tmp_path / "h.png"), "--save", str(save)]) == 0
    _, pre, model = _load_run(digits_run)
    X = standardize(np.load(digits_input).reshape(-1, 1, 8, 8), pre)
    want = IntegratedGradients(model).attribute(axonic.tensor(X), target=3).numpy()
    assert np.allclose(np.load(save), want)


def test_explain_errors_exit_2_and_name_the_value(digits_run, digits_input, tmp_path, capsys):
    assert main(["explain", str(digits_run), str(digits_input), "--target", "12", "--out",
                 str(tmp_path / "h.png")]) == 2
    assert "--target 12 is out of range for a model with 10 outputs" in capsys.readouterr().err
    assert main(["explain", str(digits_run), str(digits_input), "--index", "9", "--out",
                 str(tmp_path / "h.png")]) == 2
    assert "--index 9 is out of range for 4 samples" in capsys.readouterr().err


def test_lr_find_command_plots_and_suggests(tmp_path, capsys):
    config = EXAMPLES / "configs" / "mlp_tabular.toml"
    out = tmp_path / "lr.png"
    assert main(["lr-find", str(config), "--num-steps", "30", "--out", str(out)]) == 0
    line = capsys.readouterr().out
    rate = float(line.split("suggested learning rate: ")[1].split()[0])
    assert 1e-7 < rate < 10 and out.stat().st_size > 1000
    assert main(["lr-find", str(config), "--min-lr", "1", "--max-lr", "0.5"]) == 2
    assert "need 0 < min_lr < max_lr, got min_lr=1.0" in capsys.readouterr().err

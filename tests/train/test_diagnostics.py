"""Diagnostics: each planted pathology is found with the right kind and layer, and healthy
runs report nothing."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.train import Trainer
from axonic.train.diagnostics import ADVICE, KINDS, Diagnostics, Finding
from axonic.train.diagnostics.lr_find import lr_find, suggest_lr

datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def digits():
    d = datasets.load_digits()
    X = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    return X[:1400], y[:1400], X[1400:], y[1400:]


def _mlp(*hidden_act, width=64):
    layers, n_in = [], 64
    for act in hidden_act:
        layers += [nn.Linear(n_in, width), act()]
        n_in = width
    return nn.Sequential(*layers, nn.Linear(n_in, 10))


def _fit(model, opt, data, epochs, val=None, every=10, batch_size=32):
    diag = Diagnostics(every_n_steps=every, verbose=False)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), callbacks=[diag], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(data, validation=val, epochs=epochs, batch_size=batch_size, verbose=0)
    return diag.findings


def _kinds(findings):
    return {(f.kind, f.layer) for f in findings}


def test_a_healthy_run_has_no_findings(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    X, y, Xv, yv = digits
    assert _fit(model, optim.Adam(model.parameters(), lr=1e-3), (X, y), 5, val=(Xv, yv)) == []


def test_vanishing_gradients_in_a_ten_layer_sigmoid_mlp(digits):
    axonic.manual_seed(0)
    model = _mlp(*[nn.Sigmoid] * 10, width=32)
    found = _fit(model, optim.SGD(model.parameters(), lr=0.1), digits[:2], 1)
    f = next(f for f in found if f.kind == "vanishing_gradients")
    assert f.layer == "0.weight" and f.epoch == 0
    assert f.evidence["ratio"] < 1e-3
    assert f.evidence["grad_rms"]["0.weight"] < f.evidence["grad_rms"]["20.weight"]
    assert "ReLU" in f.advice and "residual" in f.advice


def test_sgd_at_lr_50_is_divergence_and_too_high_a_learning_rate(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    found = _fit(model, optim.SGD(model.parameters(), lr=50.0), digits[:2], 1)
    kinds = {f.kind for f in found}
    assert {"divergence", "learning_rate_too_high"} <= kinds
    high = next(f for f in found if f.kind == "learning_rate_too_high")
    assert high.evidence["lr"] == 50.0 and high.evidence["update_ratio"] > 1
    assert "lower the learning rate" in next(f for f in found if f.kind == "divergence").advice


def test_exploding_gradients_when_the_gradient_norm_grows_a_thousandfold(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU, nn.ReLU)
    opt = optim.SGD(model.parameters(), lr=10.0, momentum=0.9)
    found = _fit(model, opt, digits[:2], 1, every=1)
    f = next(f for f in found if f.kind == "exploding_gradients")
    assert f.evidence["growth"] > 1e3 and f.layer.endswith(".weight")
    assert "clip" in f.advice


def test_a_relu_after_bias_minus_five_is_dead_with_the_fraction(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    with axonic.no_grad():
        model[0].bias.fill_(-5.0)
    found = _fit(model, optim.Adam(model.parameters(), lr=1e-3), digits[:2], 1)
    f = next(f for f in found if f.kind == "dead_relu")
    assert f.layer == "1" and f.evidence["dead_fraction"] == 1.0 and f.epoch == 0
    assert "Leaky ReLU" in f.advice
    assert ("poor_initialization", "1") in _kinds(found)


def test_tanh_with_weights_of_std_ten_is_saturated_from_initialisation(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.Tanh)
    with axonic.no_grad():
        model[0].weight.normal_(0, 10.0)
    found = _fit(model, optim.Adam(model.parameters(), lr=1e-3), digits[:2], 1)
    assert {("saturated_activations", "1"), ("poor_initialization", "1")} <= _kinds(found)
    f = next(f for f in found if f.kind == "saturated_activations")
    assert f.evidence["saturated_fraction"] > 0.5 and f.step == 0
    assert "Xavier" in f.advice


def test_lr_1e_minus_7_is_too_low_and_the_loss_stalls(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    found = _fit(model, optim.Adam(model.parameters(), lr=1e-7), digits[:2], 5)
    low = next(f for f in found if f.kind == "learning_rate_too_low")
    assert low.epoch == 0 and low.evidence["update_ratio"] < 1e-5
    stalled = next(f for f in found if f.kind == "loss_not_decreasing")
    assert stalled.epoch == 4


def test_a_frozen_layer_given_to_the_optimizer_is_unchanged(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    model[0].weight.requires_grad_(False)
    found = _fit(model, optim.Adam(model.parameters(), lr=1e-3), digits[:2], 1)
    assert [(f.kind, f.layer) for f in found] == [("unchanged_weights", "0.weight")]
    assert found[0].evidence == {"requires_grad": False}


def test_class_imbalance_names_the_counts(digits):
    X, y = digits[:2]
    keep = (y != 1) | (np.arange(len(y)) % 20 == 0)
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    found = _fit(model, optim.Adam(model.parameters(), lr=1e-3), (X[keep], y[keep]), 1)
    f = next(f for f in found if f.kind == "class_imbalance")
    assert f.evidence["counts"][1] < 10 and f.evidence["ratio"] > 10
    assert f.evidence["recall_of_rare_classes"][1] < 0.3
    assert "weight" in f.advice


def test_a_long_tail_of_classes_is_not_a_starved_class():
    from axonic.train.diagnostics import rules

    counts = [68, 37, 34, 25, 21, 18, 14, 12, 11, 9, 9, 8, 6, 5, 4, 3, 2, 1, 1, 1]  # letters
    y = np.repeat(np.arange(len(counts)), counts)
    wrong = np.zeros_like(y)  # everything predicted as the most frequent class
    assert rules.imbalance(y, wrong) is None
    starved = np.concatenate([np.repeat(np.arange(9), 140), [9] * 6])
    hit = rules.imbalance(starved, np.zeros_like(starved))
    assert hit["recall_of_rare_classes"] == {9: 0.0} and hit["ratio"] == 140 / 6


def test_imbalanced_classes_the_model_gets_right_are_not_a_finding():
    X = np.zeros((105, 2), dtype=np.float32)
    X[100:, 1] = 1.0
    y = (X[:, 1] > 0).astype(np.int64)  # class 1: 5 of 105 (20x rarer), trivially separable
    axonic.manual_seed(0)
    model = nn.Linear(2, 2)
    with axonic.no_grad():
        model.weight.copy_(axonic.tensor([[0.0, -5.0], [0.0, 5.0]]))
    found = _fit(model, optim.SGD(model.parameters(), lr=0.01), (X, y), 1)
    assert "class_imbalance" not in {f.kind for f in found}


@pytest.mark.slow
def test_a_512_512_mlp_on_60_samples_overfits_and_names_the_epoch(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU, nn.ReLU, width=512)
    X, y, Xv, yv = digits
    found = _fit(model, optim.Adam(model.parameters(), lr=1e-3), (X[:60], y[:60]), 300,
                 val=(Xv, yv))
    f = next(f for f in found if f.kind == "overfitting")
    assert 1 <= f.evidence["turned_at_epoch"] < f.epoch + 1 <= 100
    assert f.evidence["val_loss"] > 1.1 * f.evidence["best_val_loss"]
    assert "dropout" in f.advice and "early" in f.advice


def test_each_finding_is_printed_once(digits, capsys):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    with axonic.no_grad():
        model[0].bias.fill_(-5.0)
    diag = Diagnostics()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                      callbacks=[diag], seed=0)
    trainer.fit(digits[:2], epochs=2, verbose=0)
    out = capsys.readouterr().out
    assert out.count("Diagnostics: dead_relu in layer '1'") == 1
    assert len(diag.findings) == len(out.strip().splitlines())


def test_findings_survive_a_state_dict_round_trip():
    diag = Diagnostics()
    diag.findings = [Finding("overfitting", None, 3, 40, {"val_loss": float("nan")}, "m")]
    other = Diagnostics()
    other.load_state_dict(diag.state_dict())
    assert other.findings[0].kind == "overfitting" and other.findings[0].step == 40


def test_every_kind_has_advice_and_errors_name_the_value():
    assert len(KINDS) == 12 and all(ADVICE[k] for k in KINDS)
    with pytest.raises(ValueError, match="Diagnostics: every_n_steps must be an int >= 1, "
                                         "got 0"):
        Diagnostics(every_n_steps=0)
    with pytest.raises(ValueError, match="Finding: kind must be one of .*, got 'slow'"):
        Finding("slow", None, 0, 0)


CONFIGS = sorted((Path(__file__).resolve().parents[2] / "examples" / "configs").glob("*.toml"))


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_example_config_trains_without_findings(config, tmp_path, capsys):
    from axonic.cli.main import main

    main(["train", str(config), "--out", str(tmp_path), "--quiet"])
    result = json.loads((tmp_path / "test_metrics.json").read_text())
    assert result["findings"] == []


# --- learning-rate range test -------------------------------------------------------------
def test_lr_find_suggestion_ignores_a_loss_spike():
    lrs = np.logspace(-6, 0, 80)
    loss = 2 - np.tanh(2 * (np.log10(lrs) + 3)) + 8 * (lrs > 0.2)
    spiky = loss.copy()
    spiky[10] = 50.0  # one bad batch early on
    assert suggest_lr(lrs, spiky) == suggest_lr(lrs, loss)
    assert abs(np.log10(suggest_lr(lrs, loss)) + 3) < 0.3


def test_lr_find_restores_the_model_and_optimizer(digits):
    axonic.manual_seed(0)
    model = _mlp(nn.ReLU)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss())
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    result = lr_find(trainer, digits[:2], num_steps=30)
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 30
    assert result.lrs[0] == pytest.approx(1e-7) and 1e-7 < result.suggestion < 10
    assert all(np.array_equal(before[k], v.detach().numpy())
               for k, v in model.state_dict().items())
    assert opt.param_groups[0]["lr"] == 1e-3 and opt.state_dict()["state"] == {}


def test_lr_find_errors_name_the_value(digits):
    model = _mlp(nn.ReLU)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="lr_find: need 0 < min_lr < max_lr, got min_lr=1.0, "
                                         "max_lr=0.1"):
        lr_find(trainer, digits[:2], min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="lr_find: num_steps must be an int >= 3, got 2"):
        lr_find(trainer, digits[:2], num_steps=2)


@pytest.mark.slow
def test_lr_find_on_the_digits_cnn_suggests_a_rate_that_trains_to_97_percent(tmp_path):
    from sklearn.model_selection import train_test_split

    d = datasets.load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                      metrics=["accuracy"], seed=0)
    result = lr_find(trainer, (Xtr, ytr))
    assert 1e-4 <= result.suggestion <= 1e-1
    result.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 0
    for g in trainer.optimizer.param_groups:
        g["lr"] = result.suggestion
    trainer.fit((Xtr, ytr), epochs=8, verbose=0)
    assert trainer.evaluate((Xte, yte))["accuracy"] >= 0.97

"""Distill in the Trainer and [distill] in `axonic train`."""

import json

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.cli.config import ConfigError, resolve
from axonic.cli.main import main
from axonic.train import Callback, Trainer
from axonic.train.distill import Distill


def _data(n=48):
    X = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def test_one_distill_step_equals_a_manual_step_with_distillation_loss():
    X, y = _data(16)
    teacher = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    axonic.manual_seed(3)
    student = nn.Linear(4, 2)
    axonic.manual_seed(3)
    manual = nn.Linear(4, 2)
    trainer = Trainer(student, optim.SGD(student.parameters(), lr=0.5), nn.CrossEntropyLoss(),
                      callbacks=[Distill(teacher, temperature=3.0, alpha=0.8)], seed=0)
    trainer.fit((X, y), epochs=1, batch_size=16, shuffle=False, verbose=0)
    opt = optim.SGD(manual.parameters(), lr=0.5)
    with axonic.no_grad():
        t_out = teacher(axonic.tensor(X))
    loss = nn.DistillationLoss(3.0, 0.8)(manual(axonic.tensor(X)), t_out, axonic.tensor(y))
    loss.backward()
    opt.step()
    np.testing.assert_allclose(student.weight.detach().numpy(), manual.weight.detach().numpy(),
                               rtol=1e-6, atol=1e-7)
    assert trainer.history.history["loss"][0] == pytest.approx(loss.item(), rel=1e-6)


def test_distill_runs_the_teacher_on_training_batches_only_and_restores_the_loss():
    X, y = _data()
    calls = []
    teacher = nn.Linear(4, 2)
    teacher.register_forward_hook(lambda m, args, out: calls.append(len(args[0])))
    student = nn.Linear(4, 2)
    loss = nn.CrossEntropyLoss()
    val_losses = []

    class ValLoss(Callback):
        def on_epoch_end(self, epoch, logs=None):
            val_losses.append(logs["val_loss"])

    trainer = Trainer(student, optim.Adam(student.parameters(), lr=0.01), loss,
                      callbacks=[Distill(teacher, 2.0, 1.0), ValLoss()], seed=0)
    trainer.fit((X[:32], y[:32]), validation=(X[32:], y[32:]), epochs=2, batch_size=16,
                verbose=0)
    assert calls == [16, 16, 16, 16]  # two batches a epoch, none for validation
    assert trainer.loss_fn is loss and not student._forward_pre_hooks
    with axonic.no_grad():  # val_loss is the plain loss, comparable with a run alone
        plain = loss(student(axonic.tensor(X[32:])), axonic.tensor(y[32:])).item()
    assert val_losses[-1] == pytest.approx(plain, rel=1e-5)


def test_distill_refuses_a_teacher_that_is_not_a_module():
    with pytest.raises(TypeError, match="Distill: teacher must be an nn.Module, got str"):
        Distill("runs/teacher")


def test_distill_config_keys_are_checked_and_named():
    base = {"model": {"layers": [{"type": "Linear", "in_features": 4, "out_features": 3}]},
            "data": {"dataset": "iris"}}
    cfg = resolve({**base, "distill": {"teacher": "runs/t"}})
    assert cfg["distill"] == {"teacher": "runs/t", "temperature": 4.0, "alpha": 0.5}
    assert resolve(base)["distill"] is None
    for table, message in [
        ({"temperature": 2.0}, "distill.teacher is required"),
        ({"teacher": "t", "temprature": 2.0}, "distill: unknown key 'temprature'. Did you mean "
                                              "'temperature'?"),
        ({"teacher": "t", "alpha": 2}, "distill.alpha: expected a number in [0, 1], got 2"),
        ({"teacher": "t", "temperature": 0}, "distill.temperature: expected a number > 0, got 0"),
        ({"teacher": 3}, "distill.teacher: expected a string, got 3 (int)"),
    ]:
        with pytest.raises(ConfigError) as e:
            resolve({**base, "distill": table})
        assert message in str(e.value)


IRIS = """
name = "{name}"
seed = 0
epochs = {epochs}
[data]
dataset = "iris"
batch_size = 16
transforms = [{{ type = "Standardize" }}]
[model]
layers = [
  {{ type = "Linear", in_features = 4, out_features = {hidden} }},
  {{ type = "ReLU" }},
  {{ type = "Linear", in_features = {hidden}, out_features = {classes} }},
]
[optimizer]
type = "Adam"
lr = 0.02
[callbacks]
plotter = false
progress = false
{distill}
"""


def _config(tmp_path, name, hidden=16, classes=3, epochs=3, distill=""):
    path = tmp_path / f"{name}.toml"
    path.write_text(IRIS.format(name=name, hidden=hidden, classes=classes, epochs=epochs,
                                distill=distill))
    return str(path)


def test_axonic_train_distills_from_a_teacher_run(tmp_path, monkeypatch, capsys):
    teacher = tmp_path / "teacher"
    assert main(["train", _config(tmp_path, "t", hidden=32, epochs=1), "--out", str(teacher),
                 "--quiet"]) == 0
    calls = []
    run_teacher = Distill._run_teacher

    def counted(self, module, args):
        calls.append((module.training, len(args[0])))
        return run_teacher(self, module, args)

    monkeypatch.setattr(Distill, "_run_teacher", counted)
    distill = f'[distill]\nteacher = "{teacher}"\ntemperature = 3.0\nalpha = 0.7\n'
    student = tmp_path / "student"
    assert main(["train", _config(tmp_path, "s", hidden=4, epochs=2, distill=distill), "--out",
                 str(student), "--quiet"]) == 0
    cfg = json.loads((student / "config.json").read_text())
    assert cfg["distill"] == {"teacher": str(teacher), "temperature": 3.0, "alpha": 0.7}
    trained = [n for training, n in calls if training]
    # the teacher saw every training batch of both epochs (105 training samples, batch 16)
    assert trained.count(16) >= 12 and sum(trained) >= 2 * 105
    assert (student / "model.safetensors").is_file()


def test_a_teacher_that_does_not_fit_is_a_config_error_naming_the_key(tmp_path, capsys):
    missing = f'[distill]\nteacher = "{tmp_path / "nowhere"}"\n'
    assert main(["train", _config(tmp_path, "s", distill=missing), "--out",
                 str(tmp_path / "a"), "--quiet"]) == 2
    assert "distill.teacher: " in capsys.readouterr().err
    teacher = tmp_path / "teacher"
    assert main(["train", _config(tmp_path, "t", classes=4, epochs=1), "--out", str(teacher),
                 "--quiet"]) == 0
    other = f'[distill]\nteacher = "{teacher}"\n'
    assert main(["train", _config(tmp_path, "s", distill=other), "--out",
                 str(tmp_path / "b"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"distill.teacher: {teacher} gives outputs of shape (2, 4) for two samples; this " \
           "run's model gives (2, 3)" in err


def test_a_student_taught_by_soft_targets_alone_learns_the_teachers_function():
    X = np.random.default_rng(1).normal(size=(256, 4)).astype(np.float32)
    noise = np.random.default_rng(2).integers(0, 3, 256)  # labels unused with alpha = 1
    teacher = nn.Linear(4, 3)
    with axonic.no_grad():
        teacher.weight.mul_(4.0)
        wanted = teacher(axonic.tensor(X)).numpy().argmax(1)
    student = nn.Linear(4, 3)
    trainer = Trainer(student, optim.Adam(student.parameters(), lr=0.05), nn.CrossEntropyLoss(),
                      callbacks=[Distill(teacher, temperature=2.0, alpha=1.0)], seed=0)
    trainer.fit((X, noise), epochs=30, batch_size=32, verbose=0)
    with axonic.no_grad():
        agree = (student(axonic.tensor(X)).numpy().argmax(1) == wanted).mean()
    assert agree > 0.95, agree
    assert (wanted == noise).mean() < 0.5  # the labels alone could not have taught it

"""Callbacks: hook order, EarlyStopping, ModelCheckpoint, LR schedules, CSV, progress, plots."""

import csv
import io

import numpy as np
import pytest

from axonic import nn, optim
from axonic.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    Plotter,
    ProgressBar,
    Trainer,
    read_checkpoint,
)
from tests.train import tiny


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch}")


def test_hooks_are_called_in_keras_order():
    rec = Recorder()
    t = tiny.trainer(callbacks=[rec])
    t.fit(tiny.data(16), validation=tiny.data(8, seed=1), epochs=2, batch_size=8, verbose=0)
    keys = "['accuracy', 'f1_macro', 'loss', 'lr', 'val_accuracy', 'val_f1_macro', 'val_loss']"
    assert rec.calls == ["train_begin",
                         "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1",
                         "batch_end 1", f"epoch_end 0 {keys}",
                         "epoch_begin 1", "batch_begin 0", "batch_end 0", "batch_begin 1",
                         "batch_end 1", f"epoch_end 1 {keys}", "train_end"]


def scripted_trainer(val_losses, callbacks):
    """A trainer whose val_loss follows a script, so early stopping is predictable."""

    class Script(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = val_losses[epoch]

    t = tiny.trainer(callbacks=[Script(), *callbacks])
    return t


class WeightsAt(Callback):
    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.trainer.model.state_dict()["0.weight"].numpy().copy())


def test_early_stopping_stops_and_restores_the_best_weights():
    w = WeightsAt()
    es = EarlyStopping(patience=1, restore_best_weights=True)
    t = scripted_trainer([1.0, 0.5, 0.6, 0.7, 0.2, 0.1], [w, es])
    h = t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=6, batch_size=8, verbose=0)
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 3 and es.best_epoch == 1
    assert np.array_equal(t.model.state_dict()["0.weight"].numpy(), w.weights[1])
    assert not np.array_equal(w.weights[3], w.weights[1])


def test_early_stopping_restores_the_best_weights_when_the_epochs_run_out():
    w = WeightsAt()
    es = EarlyStopping(patience=10, restore_best_weights=True)
    t = scripted_trainer([1.0, 0.3, 0.6, 0.7], [w, es])
    h = t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=4, batch_size=8, verbose=0)
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch is None
    assert np.array_equal(t.model.state_dict()["0.weight"].numpy(), w.weights[1])


def test_early_stopping_min_delta_mode_and_errors():
    es = EarlyStopping(monitor="val_accuracy", patience=0, min_delta=0.1)
    t = scripted_trainer([0.0] * 5, [es])
    t.fit(tiny.data(), epochs=1, batch_size=48, verbose=0, validation=tiny.data())
    assert es.mode == "max"
    with pytest.raises(ValueError, match="monitor 'val_loss' is not in the logs; available: "
                                         "accuracy, f1_macro, loss, lr"):
        tiny.trainer(callbacks=[EarlyStopping()]).fit(tiny.data(), verbose=0)
    with pytest.raises(ValueError, match="patience must be an int >= 0, got -1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'low'"):
        EarlyStopping(mode="low")


def test_model_checkpoint_keeps_last_and_best(tmp_path):
    mc = ModelCheckpoint(tmp_path)
    t = scripted_trainer([1.0, 0.5, 0.8], [mc])
    t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=3, batch_size=8, verbose=0)
    _, last = read_checkpoint(tmp_path / "last")
    _, best = read_checkpoint(tmp_path / "best")
    assert (last["epoch"], best["epoch"]) == (3, 2)
    assert best["history"]["epoch"] == [0, 1]
    assert t.last_checkpoint == tmp_path / "last"


def test_model_checkpoint_save_best_only(tmp_path):
    mc = ModelCheckpoint(tmp_path, save_best_only=True)
    t = scripted_trainer([1.0, 0.5, 0.8], [mc])
    t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=3, batch_size=8, verbose=0)
    assert read_checkpoint(tmp_path / "last")[1]["epoch"] == 2
    with pytest.raises(ValueError, match="every_n_steps must be an int >= 1 or None, got 0"):
        ModelCheckpoint(tmp_path, every_n_steps=0)


def test_learning_rate_scheduler_function_and_object():
    t = tiny.trainer(callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    t.scheduler = None
    h = t.fit(tiny.data(), epochs=3, batch_size=8, verbose=0)
    assert h.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    m = tiny.model()
    opt = optim.SGD(m.parameters(), lr=1.0)
    cb = LearningRateScheduler(optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1))
    h = Trainer(m, opt, nn.CrossEntropyLoss(), callbacks=[cb]).fit(
        tiny.data(), epochs=3, batch_size=8, verbose=0)
    assert h.history["lr"] == pytest.approx([1.0, 0.1, 0.01])
    with pytest.raises(TypeError, match="schedule must be a function"):
        LearningRateScheduler(0.1)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    t = tiny.trainer(callbacks=[CSVLogger(tmp_path / "log.csv")])
    h = t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=3, batch_size=8, verbose=0)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["val_loss"]) for r in rows] == h.history["val_loss"]


def test_progress_prints_one_line_per_epoch_when_not_a_terminal():
    out = io.StringIO()
    t = tiny.trainer(callbacks=[ProgressBar(stream=out)])
    t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=2, batch_size=8)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in out.getvalue()
    assert lines[0].startswith("Epoch 1/2 - ") and " - loss: " in lines[0]
    assert " - val_accuracy: " in lines[1] and " - lr: 0.05" in lines[1]


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_a_live_bar_on_a_terminal():
    out = Tty()
    tiny.trainer(callbacks=[ProgressBar(stream=out)]).fit(tiny.data(), epochs=1, batch_size=8)
    text = out.getvalue()
    assert "\rEpoch 1/1:" in text and "6/6" in text and "loss: " in text
    assert text.splitlines()[-1].startswith("Epoch 1/1 - ")


def test_progress_draws_its_own_bar_without_tqdm(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    out = Tty()
    tiny.trainer(callbacks=[ProgressBar(stream=out)]).fit(tiny.data(), epochs=1, batch_size=8)
    assert "\rEpoch 1/1 [" in out.getvalue() and "6/6" in out.getvalue()


def test_plotter_writes_a_png(tmp_path):
    t = tiny.trainer(callbacks=[Plotter(tmp_path / "curves.png")])
    t.fit(tiny.data(), validation=tiny.data(8, seed=1), epochs=2, batch_size=8, verbose=0)
    data = (tmp_path / "curves.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    from PIL import Image

    img = Image.open(tmp_path / "curves.png")
    img.verify()
    assert img.size[0] > 600

"""Trainer: inputs it accepts, gradient accumulation, L2, clipping, NaN, schedulers, errors."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.data.dataloader import DataLoader
from axonic.data.dataset import TensorDataset
from axonic.train import ModelCheckpoint, NonFiniteLossError, NonFiniteLossWarning, Trainer
from tests.train import tiny


def sgd_trainer(lr=0.1, momentum=0.9, **kw):
    m = tiny.model(dropout=0)
    return Trainer(m, optim.SGD(m.parameters(), lr=lr, momentum=momentum),
                   nn.CrossEntropyLoss(), **kw)


def weights(t):
    return {k: v.numpy().copy() for k, v in t.model.state_dict().items()}


def test_fit_learns_and_history_is_keras_like():
    X, y = tiny.data(96)
    t = tiny.trainer(lr=0.05)
    h = t.fit((X, y), validation_split=0.25, epochs=8, batch_size=8, verbose=0)
    assert h.epoch == list(range(8))
    assert set(h.history) == {"loss", "accuracy", "f1_macro", "val_loss", "val_accuracy",
                              "val_f1_macro", "lr"}
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert h.history["val_accuracy"][-1] >= 0.85
    assert h.history["lr"] == [0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625, 0.00625]


def test_dataset_loader_and_arrays_give_the_same_run():
    X, y = tiny.data()
    results = []
    for data in ((X, y), (axonic.tensor(X), axonic.tensor(y)), TensorDataset(X, y),
                 DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=11)):
        t = sgd_trainer(seed=11)
        t.fit(data, epochs=2, batch_size=8, verbose=0)
        results.append(weights(t))
    for r in results[1:]:
        for k in r:
            assert np.array_equal(r[k], results[0][k])


def test_evaluate_and_predict():
    X, y = tiny.data()
    t = tiny.trainer()
    t.fit((X, y), epochs=3, batch_size=8, verbose=0)
    out = t.predict(X)
    assert tuple(out.shape) == (48, 3)
    assert np.array_equal(t.predict((X, y)).numpy(), out.numpy())
    r = t.evaluate((X, y), batch_size=7)
    assert r["accuracy"] == pytest.approx(float((out.numpy().argmax(1) == y).mean()))
    logp = out.numpy() - np.log(np.exp(out.numpy()).sum(1, keepdims=True))
    assert r["loss"] == pytest.approx(-logp[np.arange(48), y].mean(), rel=1e-5)
    with pytest.raises(ValueError, match="has no targets; use predict"):
        t.evaluate(X)


@pytest.mark.parametrize("n", [32, 40])  # 40: the last accumulation group has one batch
def test_grad_accumulation_equals_one_bigger_batch(n):
    X, y = tiny.data(n)
    big = sgd_trainer()
    big.fit((X, y), epochs=3, batch_size=32, shuffle=False, verbose=0)
    acc = sgd_trainer(grad_accum_steps=4)
    acc.fit((X, y), epochs=3, batch_size=8, shuffle=False, verbose=0)
    assert acc.global_step == big.global_step == 3 * (n // 32 + (n % 32 > 0))
    for k, v in weights(big).items():
        np.testing.assert_allclose(weights(acc)[k], v, rtol=0, atol=1e-6)
    assert not np.allclose(weights(big)["0.weight"], weights(sgd_trainer())["0.weight"])


def test_l2_adds_2_l2_w_to_weight_gradients_and_leaves_biases():
    X, y = tiny.data()
    plain, reg = sgd_trainer(lr=1.0, momentum=0), sgd_trainer(lr=1.0, momentum=0, l2=0.01)
    w0 = weights(plain)
    plain.fit((X, y), epochs=1, batch_size=48, shuffle=False, verbose=0)
    reg.fit((X, y), epochs=1, batch_size=48, shuffle=False, verbose=0)
    for k in w0:
        diff = weights(reg)[k] - weights(plain)[k]
        expected = -2 * 0.01 * w0[k] if k.endswith("weight") else np.zeros_like(w0[k])
        np.testing.assert_allclose(diff, expected, atol=1e-6)


def test_clip_grad_norm_limits_the_step():
    X, y = tiny.data()
    t = sgd_trainer(lr=1.0, momentum=0, clip_grad_norm=1e-3)
    w0 = weights(t)
    t.fit((X, y), epochs=1, batch_size=48, verbose=0)
    change = np.sqrt(sum(((weights(t)[k] - w0[k]) ** 2).sum() for k in w0))
    assert change == pytest.approx(1e-3, rel=1e-3)


def nan_data():
    X, y = tiny.data(32)
    X[13, 0] = np.inf  # sample 13 sits in the second batch of 8 (no shuffle)
    return X, y


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_loss_stops_naming_epoch_and_step_and_keeps_the_last_checkpoint(tmp_path):
    t = sgd_trainer(callbacks=[ModelCheckpoint(tmp_path, every_n_steps=1)])
    with pytest.warns(NonFiniteLossWarning, match=r"loss is nan at epoch 1, step 2 "
                      r"\(batch 2 of 4\).*kept at .*last.*detect_anomaly\(\)"):
        h = t.fit(nan_data(), epochs=3, batch_size=8, shuffle=False, verbose=0)
    assert len(h.epoch) == 0 and "step 2" in h.stop_reason
    from axonic.train import read_checkpoint

    arrays, state = read_checkpoint(tmp_path / "last")
    assert state["step"] == 1
    assert all(np.isfinite(a).all() for a in arrays["model"].values())


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_loss_can_raise():
    t = sgd_trainer(on_nan="raise")
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 2.*detect_anomaly"):
        t.fit(nan_data(), epochs=1, batch_size=8, shuffle=False, verbose=0)


def test_batch_scheduler_steps_every_optimizer_step():
    X, y = tiny.data()
    m = tiny.model()
    opt = optim.SGD(m.parameters(), lr=1.0)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    t = Trainer(m, opt, nn.CrossEntropyLoss(), scheduler=sched, scheduler_interval="batch",
                grad_accum_steps=2)
    t.fit((X, y), epochs=1, batch_size=8, verbose=0)
    assert opt.param_groups[0]["lr"] == 0.5 ** 3  # 6 batches, 3 steps


def test_reduce_lr_on_plateau_gets_val_loss():
    X, y = tiny.data()
    Xv, yv = tiny.data(16, seed=1)
    m = tiny.model()
    opt = optim.Adam(m.parameters(), lr=0.05)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    t = Trainer(m, opt, nn.CrossEntropyLoss(), scheduler=sched)
    h = t.fit((X, y), validation=(Xv, yv), epochs=4, batch_size=8, verbose=0)
    assert sched.best == min(h.history["val_loss"])
    assert sched.best not in h.history["loss"]


@pytest.mark.parametrize("kw, match", [
    ({"grad_accum_steps": 0}, "grad_accum_steps must be an int >= 1, got 0"),
    ({"clip_grad_norm": -1.0}, "clip_grad_norm must be a number >= 0 or None, got -1.0"),
    ({"l2": "a"}, "l2 must be a number >= 0, got 'a'"),
    ({"scheduler_interval": "step"}, "scheduler_interval must be 'epoch' or 'batch', got 'step'"),
    ({"on_nan": "ignore"}, "on_nan must be 'stop' or 'raise', got 'ignore'"),
    ({"metrics": ["acuracy"]}, "unknown metric 'acuracy'. Did you mean 'accuracy'"),
])
def test_bad_arguments_are_named(kw, match):
    m = tiny.model()
    with pytest.raises(ValueError, match=match):
        Trainer(m, optim.SGD(m.parameters(), lr=0.1), nn.CrossEntropyLoss(), **kw)


def test_bad_fit_inputs_are_named():
    X, y = tiny.data()
    t = sgd_trainer()
    with pytest.raises(ValueError, match="X has 48 samples but y has 47"):
        t.fit((X, y[:-1]), verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        t.fit((X, y), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be in \\(0, 1\\), got 1.5"):
        t.fit((X, y), validation_split=1.5, verbose=0)
    with pytest.raises(TypeError, match="expected a Dataset, a DataLoader or \\(X, y\\)"):
        t.fit("data.csv", verbose=0)


def test_non_finite_weights_are_never_checkpointed(tmp_path):
    from axonic.train import Callback, read_checkpoint

    class Poison(Callback):  # a step whose gradients were non-finite, as far as weights go
        def on_batch_end(self, batch, logs=None):
            if logs["step"] == 2:
                self.trainer.model.state_dict(keep_vars=True)["0.weight"]._data[0, 0] = np.nan

    t = sgd_trainer(callbacks=[Poison(), ModelCheckpoint(tmp_path, every_n_steps=1)])
    with pytest.warns(NonFiniteLossWarning, match="step 3"), \
            pytest.warns(RuntimeWarning, match="weights hold NaN/inf at step 2 \\(0.weight\\); "
                                               "not saving"):
        h = t.fit(tiny.data(32), epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert "step 3" in h.stop_reason and "kept at" in h.stop_reason
    assert read_checkpoint(tmp_path / "last")[1]["step"] == 1


def test_evaluate_and_predict_need_no_optimizer():
    X, y = tiny.data()
    trained = tiny.trainer()
    trained.fit((X, y), epochs=2, batch_size=8, verbose=0)
    judge = Trainer(trained.model, loss=nn.CrossEntropyLoss(), metrics=["accuracy", "f1_macro"])
    assert judge.optimizer is None
    assert judge.evaluate((X, y)) == trained.evaluate((X, y))
    assert np.array_equal(Trainer(trained.model).predict(X).numpy(),
                          trained.predict(X).numpy())


def test_what_each_method_needs_is_named():
    m = tiny.model()
    X, y = tiny.data()
    with pytest.raises(ValueError, match=r"Trainer.evaluate: needs a loss; this Trainer was "
                                         r"made without one \(pass loss=\.\.\."):
        Trainer(m).evaluate((X, y))
    with pytest.raises(ValueError, match="Trainer.fit: needs an optimizer; this Trainer was "
                                         "made without one"):
        Trainer(m, loss=nn.CrossEntropyLoss()).fit((X, y), verbose=0)
    with pytest.raises(TypeError, match="Trainer: loss must be callable"):
        Trainer(m, None, "mse")


def test_every_attribute_is_set_in_init(tmp_path):
    t = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path)], l2=1e-3)
    before = set(vars(t))
    t.fit(tiny.data(), validation_split=0.25, epochs=2, batch_size=8, verbose=0)
    t.evaluate(tiny.data())
    t.fit(tiny.data(), epochs=3, batch_size=8, verbose=0, resume_from=tmp_path)
    assert set(vars(t)) == before


def test_the_config_given_to_the_trainer_goes_into_its_checkpoints(tmp_path):
    from axonic.train import read_checkpoint

    m = tiny.model()
    t = Trainer(m, optim.SGD(m.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                callbacks=[ModelCheckpoint(tmp_path)], config={"name": "tiny", "epochs": 1})
    t.fit(tiny.data(), epochs=1, batch_size=8, verbose=0)
    assert read_checkpoint(tmp_path / "last")[1]["config"] == {"name": "tiny", "epochs": 1}


def test_validation_split_is_data_random_split_with_the_seed():
    from axonic.backend.random import Generator
    from axonic.data import random_split
    from axonic.train import inputs

    ds = TensorDataset(*tiny.data(50))
    train, val = inputs.split(ds, 0.3, seed=5)
    ref = random_split(ds, [0.7, 0.3], generator=Generator().manual_seed(5))
    assert (len(train), len(val)) == (35, 15)
    assert np.array_equal(train.indices, ref[0].indices)
    assert np.array_equal(val.indices, ref[1].indices)
    with pytest.raises(ValueError, match="validation_split=0.01 of 50 samples leaves 50 for "
                                         "training and 0 for validation"):
        inputs.split(ds, 0.01, seed=5)

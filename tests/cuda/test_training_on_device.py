"""The cuda test mode, training: optimizers, the Trainer, checkpoints, random draws and the
memory readings on the device, against the same run on the CPU."""

import copy

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from tests.cuda.device_mode import assert_on, close, host

pytestmark = pytest.mark.on_device

OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD-nesterov-decay": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                               weight_decay=1e-2),
    "Adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "Adam-amsgrad": lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-3),
    "AdamW": lambda ps: optim.AdamW(ps, lr=1e-2),
    "Adamax": lambda ps: optim.Adamax(ps, lr=1e-2),
    "NAdam": lambda ps: optim.NAdam(ps, lr=1e-2),
    "RAdam": lambda ps: optim.RAdam(ps, lr=1e-2),
    "RMSprop-centered": lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.9, centered=True),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "Adadelta": lambda ps: optim.Adadelta(ps, lr=1.0),
}


def _mlp():
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))


def _steps(model, make_opt, device, n=5):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((32, 6)), rng.standard_normal((32, 3))
    opt = make_opt(list(model.parameters()))
    for _ in range(n):
        opt.zero_grad()
        out = model(axonic.tensor(x.astype(np.float32), device=device))
        nn.functional.mse_loss(out, axonic.tensor(y.astype(np.float32), device=device)).backward()
        opt.step()
    return opt


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_on_device_match_cpu(name, device):
    cpu = _mlp()
    dev = copy.deepcopy(cpu).to(device)
    cpu_opt = _steps(cpu, OPTIMIZERS[name], "cpu")
    dev_opt = _steps(dev, OPTIMIZERS[name], device)
    for (pname, a), (_, b) in zip(dev.named_parameters(), cpu.named_parameters()):
        assert_on(device, a, f"{name}: {pname}")
        close(a.detach(), b.detach(), f"{name}: {pname} after 5 steps")
    for k, state in dev_opt.state_dict()["state"].items():
        for key, v in state.items():
            if isinstance(v, axonic.Tensor) and v.ndim:
                close(v, cpu_opt.state_dict()["state"][k][key], f"{name}: state {k}.{key}")


def _fit(device, tmp_path):
    from axonic.train import Trainer
    from axonic.train.callbacks import ModelCheckpoint

    rng = np.random.default_rng(2)
    x = rng.standard_normal((96, 6)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(),
                      metrics=["accuracy"], device=device, seed=3,
                      callbacks=[ModelCheckpoint(tmp_path / device.replace(":", "_"),
                                                 monitor="loss")])
    history = trainer.fit((x, y), epochs=3, batch_size=16, verbose=0)
    return trainer, history


def test_trainer_on_device_matches_cpu_and_checkpoints_from_device(device, tmp_path):
    axonic.manual_seed(0)
    cpu, cpu_hist = _fit("cpu", tmp_path)
    axonic.manual_seed(0)
    dev, dev_hist = _fit(device, tmp_path)
    for a, b in zip(dev_hist.history["loss"], cpu_hist.history["loss"]):
        assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), (dev_hist.history, cpu_hist.history)
    for a, b in zip(dev_hist.history["accuracy"], cpu_hist.history["accuracy"]):
        assert abs(a - b) <= 1 / 96 + 1e-9  # float32 rounding may flip one close argmax
    for (name, a), (_, b) in zip(dev.model.named_parameters(), cpu.model.named_parameters()):
        assert_on(device, a, name)
        close(a.detach(), b.detach(), f"trained {name}")
    # the checkpoint was written from device arrays: it holds the device weights
    from axonic.train.checkpoint import read_checkpoint, resolve_checkpoint

    arrays, _ = read_checkpoint(resolve_checkpoint(tmp_path / device.replace(":", "_")))
    for name, p in dev.model.named_parameters():
        np.testing.assert_array_equal(arrays["model"][name], host(p.detach()))


def test_random_draws_on_device_equal_the_cpu_draws(device):
    axonic.manual_seed(5)
    cpu = [axonic.randn(4, 3), axonic.rand(7), axonic.randint(0, 9, (5,))]
    axonic.manual_seed(5)
    dev = [axonic.randn(4, 3, device=device), axonic.rand(7, device=device),
           axonic.randint(0, 9, (5,), device=device)]
    for k, (a, b) in enumerate(zip(dev, cpu)):
        assert_on(device, a, f"draw {k}")
        np.testing.assert_array_equal(host(a), host(b))
    drop = nn.Dropout(0.5)
    axonic.manual_seed(6)
    mask_cpu = drop(axonic.ones(64))
    axonic.manual_seed(6)
    np.testing.assert_array_equal(host(drop(axonic.ones(64, device=device))), host(mask_cpu))


def test_memory_readings_follow_device_arrays(device):
    if not device.startswith("cuda"):
        pytest.skip("memory readings are those of a GPU; --device cpu has none")
    axonic.cuda.synchronize()
    axonic.cuda.reset_peak_memory_stats()
    before = axonic.cuda.memory_allocated()
    x = axonic.zeros(1 << 22, device=device)  # 16 MiB
    assert axonic.cuda.memory_allocated() >= before + (1 << 24)
    assert axonic.cuda.memory_reserved() >= axonic.cuda.memory_allocated()
    del x
    assert axonic.cuda.memory_allocated() < before + (1 << 24)
    assert axonic.cuda.max_memory_allocated() >= before + (1 << 24)
    axonic.cuda.empty_cache()
    assert axonic.cuda.memory_reserved() <= axonic.cuda.max_memory_reserved()


def test_cuda_seeding_and_device_queries_on_a_gpu(device):
    if not device.startswith("cuda"):
        pytest.skip("device queries are those of a GPU; --device cpu has none")
    import cupy

    axonic.cuda.manual_seed(11)
    a = cupy.random.random(5)
    axonic.cuda.set_rng_state(axonic.cuda.get_rng_state())
    assert bool((cupy.random.random(5) == a).all())
    assert axonic.cuda.device_count() >= 1 and axonic.cuda.get_device_name()
    start, end = axonic.cuda.Event(enable_timing=True), axonic.cuda.Event(enable_timing=True)
    start.record()
    (axonic.ones(1024, 1024, device=device) @ axonic.ones(1024, 1024, device=device)).sum()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) >= 0


def _trainer(device, callbacks=()):
    from axonic.train import Trainer

    axonic.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    return Trainer(model, optim.Adam(model.parameters(), lr=1e-2), nn.CrossEntropyLoss(),
                   device=device, seed=4, callbacks=list(callbacks))


def _data():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((64, 6)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)


def test_resume_on_device_from_a_device_checkpoint_continues_the_run(device, tmp_path):
    from axonic.train.callbacks import ModelCheckpoint

    whole = _trainer(device)
    whole.fit(_data(), epochs=3, batch_size=16, verbose=0)
    first = _trainer(device, [ModelCheckpoint(tmp_path / "ck", monitor="loss")])
    first.fit(_data(), epochs=2, batch_size=16, verbose=0)
    resumed = _trainer(device)
    resumed.fit(_data(), epochs=3, batch_size=16, verbose=0, resume_from=tmp_path / "ck")
    for (name, a), (_, b) in zip(resumed.model.named_parameters(),
                                 whole.model.named_parameters()):
        assert_on(device, a, name)
        close(a.detach(), b.detach(), f"resumed {name}", rtol=1e-5, atol=1e-6)


def test_early_stopping_and_lr_find_keep_the_model_on_device(device):
    from axonic.train.callbacks import EarlyStopping

    t = _trainer(device, [EarlyStopping(monitor="loss", patience=0,
                                        restore_best_weights=True)])
    t.fit(_data(), epochs=3, batch_size=16, verbose=0)
    result = t.lr_find(_data(), num_steps=5)
    assert result is not None
    for name, p in t.model.named_parameters():
        assert_on(device, p, name)

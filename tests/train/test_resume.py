"""Exact resumption: same seed -> same bits; a killed run resumed from its last checkpoint
ends bit-identical to an uninterrupted one (weights, optimizer state, history)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from axonic.train import Callback, CheckpointError, ModelCheckpoint
from axonic.train.checkpoint import split_arrays
from tests.train import tiny

ROOT = Path(__file__).resolve().parents[2]


def snapshot(t):
    weights = {k: v.numpy().copy() for k, v in t.model.state_dict().items()}
    _, opt = split_arrays(t.optimizer.state_dict())
    groups = [{k: v for k, v in g.items() if k != "params"} for g in t.optimizer.param_groups]
    return weights, opt, groups, t.history.history, t.history.epoch, t.global_step


def assert_identical(a, b):
    wa, oa, ga, ha, ea, sa = a
    wb, ob, gb, hb, eb, sb = b
    assert list(wa) == list(wb) and list(oa) == list(ob)
    for k in wa:
        assert np.array_equal(wa[k], wb[k]), k
    for k in oa:
        assert np.array_equal(oa[k], ob[k]), k
    assert ga == gb
    assert ha == hb and ea == eb and sa == sb


def test_same_seed_gives_bit_identical_weights(tmp_path):
    a = tiny.run(tmp_path / "a", epochs=3, every_n_steps=6)
    b = tiny.run(tmp_path / "b", epochs=3, every_n_steps=6)
    assert_identical(snapshot(a), snapshot(b))
    c = tiny.trainer(seed=4)  # and another seed gives other weights
    c.fit(tiny.data(), epochs=3, batch_size=8, verbose=0)
    assert not np.array_equal(c.model.state_dict()["0.weight"].numpy(),
                              a.model.state_dict()["0.weight"].numpy())


class StopAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, batch, logs=None):
        if logs["step"] == self.step and logs["optimizer_step"]:
            raise KeyboardInterrupt


@pytest.mark.parametrize("step", [5, 12, 18])  # mid-epoch, mid-epoch, an epoch's last step
def test_ctrl_c_saves_a_checkpoint_and_resume_is_bit_identical(tmp_path, step):
    reference = tiny.run(tmp_path / "ref", epochs=4, every_n_steps=100)
    X, y = tiny.data()
    t = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100),
                                StopAt(step)])
    history = t.fit((X, y), validation=tiny.data(16, seed=1), epochs=4, batch_size=8,
                    verbose=0)
    assert history.stop_reason.startswith("interrupted")
    assert (tmp_path / "run" / "last").exists()
    assert os.readlink(tmp_path / "run" / "last").startswith("ckpt-")
    resumed = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100)])
    resumed.fit((X, y), validation=tiny.data(16, seed=1), epochs=4, batch_size=8, verbose=0,
                resume_from=tmp_path / "run")
    assert_identical(snapshot(resumed), snapshot(reference))


def test_sigkill_at_a_random_step_then_resume_is_bit_identical(tmp_path):
    reference = tiny.run(tmp_path / "ref", epochs=6, every_n_steps=100)
    ckpt = tmp_path / "killed"
    kill_after = random.Random().randint(2, 25)  # of 36 steps (6 epochs x 6 batches)
    proc = subprocess.Popen([sys.executable, "-m", "tests.train.tiny", str(ckpt), "0.03"],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    step = -1
    while time.monotonic() < deadline and proc.poll() is None:
        last = ckpt / "last"
        if last.is_symlink():
            step = int(os.readlink(last).split("-s")[1].split("-")[0])
            if step >= kill_after:
                break
        time.sleep(0.005)
    assert proc.poll() is None, f"the run failed: {proc.stderr.read()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    resumed = tiny.run(ckpt, epochs=6, resume=True, every_n_steps=100)
    assert 0 < step <= 36
    assert_identical(snapshot(resumed), snapshot(reference))


def test_resume_refuses_a_corrupted_checkpoint_without_touching_the_model(tmp_path):
    tiny.run(tmp_path / "run", epochs=1, every_n_steps=100)
    target = (tmp_path / "run" / "last").resolve()
    data = bytearray((target / "model.safetensors").read_bytes())
    data[-3] ^= 0xFF
    (target / "model.safetensors").write_bytes(bytes(data))
    t = tiny.trainer()
    before = {k: v.numpy().copy() for k, v in t.model.state_dict().items()}
    with pytest.raises(CheckpointError, match="model.safetensors does not match its SHA256"):
        t.fit(tiny.data(), epochs=2, batch_size=8, verbose=0, resume_from=tmp_path / "run")
    for k, v in t.model.state_dict().items():
        assert np.array_equal(v.numpy(), before[k])


def test_a_real_sigint_during_an_optimizer_step_waits_for_the_step(tmp_path):
    import signal as sig

    reference = tiny.run(tmp_path / "ref", epochs=3, every_n_steps=100)
    X, y = tiny.data()
    t = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100)])
    step = t.optimizer.step

    def step_with_ctrl_c(*args):
        if t.global_step == 7:  # Ctrl-C arrives in the middle of the 8th step
            os.kill(os.getpid(), sig.SIGINT)
        return step(*args)

    t.optimizer.step = step_with_ctrl_c
    h = t.fit((X, y), validation=tiny.data(16, seed=1), epochs=3, batch_size=8, verbose=0)
    assert h.stop_reason == "interrupted at epoch 2, step 8"
    from axonic.train import read_checkpoint

    assert read_checkpoint(tmp_path / "run" / "last")[1]["step"] == 8
    resumed = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100)])
    resumed.fit((X, y), validation=tiny.data(16, seed=1), epochs=3, batch_size=8, verbose=0,
                resume_from=tmp_path / "run")
    assert_identical(snapshot(resumed), snapshot(reference))


def test_resume_refuses_a_loader_with_another_seed(tmp_path):
    from axonic.data import DataLoader, TensorDataset

    tiny.run(tmp_path / "run", epochs=1, every_n_steps=100)
    loader = DataLoader(TensorDataset(*tiny.data()), batch_size=8, shuffle=True, seed=99)
    with pytest.raises(ValueError, match="the DataLoader's seed 99 differs from the "
                                         "checkpoint's 3"):
        tiny.trainer().fit(loader, epochs=2, verbose=0, resume_from=tmp_path / "run")


def test_resume_with_accumulation_l2_and_clipping_is_bit_identical(tmp_path):
    kw = {"grad_accum_steps": 4, "l2": 1e-3, "clip_grad_norm": 0.5}
    reference = tiny.run(tmp_path / "ref", epochs=3, every_n_steps=100, **kw)
    X, y = tiny.data()
    t = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100),
                                StopAt(3)], **kw)  # step 3: mid-epoch (2 steps per epoch)
    t.fit((X, y), validation=tiny.data(16, seed=1), epochs=3, batch_size=8, verbose=0)
    resumed = tiny.run(tmp_path / "run", epochs=3, resume=True, every_n_steps=100, **kw)
    assert resumed.global_step == reference.global_step == 6
    assert_identical(snapshot(resumed), snapshot(reference))


def test_ctrl_c_in_a_step_with_a_per_batch_schedule_resumes_bit_identical(tmp_path):
    kw = {"scheduler_interval": "batch"}  # stepped inside each optimizer step
    reference = tiny.run(tmp_path / "ref", epochs=3, every_n_steps=100, **kw)
    X, y = tiny.data()
    t = tiny.trainer(callbacks=[ModelCheckpoint(tmp_path / "run", every_n_steps=100)], **kw)
    step = t.optimizer.step

    def step_with_ctrl_c(*args):
        if t.global_step == 7:  # Ctrl-C arrives in the middle of the 8th step
            os.kill(os.getpid(), signal.SIGINT)
        return step(*args)

    t.optimizer.step = step_with_ctrl_c
    t.fit((X, y), validation=tiny.data(16, seed=1), epochs=3, batch_size=8, verbose=0)
    from axonic.train import read_checkpoint

    saved = read_checkpoint(tmp_path / "run" / "last")[1]
    assert saved["step"] == 8 and saved["extra"]["scheduler"]["last_epoch"] == 8
    resumed = tiny.run(tmp_path / "run", epochs=3, resume=True, every_n_steps=100, **kw)
    assert resumed.scheduler.last_epoch == reference.scheduler.last_epoch == 18
    assert_identical(snapshot(resumed), snapshot(reference))

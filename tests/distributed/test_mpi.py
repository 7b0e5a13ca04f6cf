"""Data-parallel training over MPI, checked by running ``mpirun -n 2`` for real."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.mpi

WORKER = Path(__file__).with_name("_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def launcher(n=2):
    if shutil.which("mpirun") is None:
        pytest.fail("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
    cmd = ["mpirun", "-n", str(n), "--oversubscribe"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}:{ROOT}", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    return cmd, env


def mpirun(mode, n=2, timeout=120):
    cmd, env = launcher(n)
    return subprocess.run(cmd + [sys.executable, str(WORKER), mode], capture_output=True,
                          text=True, timeout=timeout, env=env)


def result(proc):
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise AssertionError(f"no result (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def test_collectives_over_two_processes():
    got = result(mpirun("collectives"))
    assert got["world"] == 2
    assert got["sum"] == [3.0, 30.0]
    assert got["avg"] == [0.5]
    assert got["max"] == [1.0]
    assert got["bcast"] == [8.0]  # from the last rank
    assert got["gather"] == [[0.0, -0.0], [1.0, -1.0]]


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_two_processes_with_batch_b_equal_one_process_with_batch_2b(kind):
    got = result(mpirun(f"{kind}:1"))
    assert got["max_rel_diff"] < 1e-6
    assert got["replica_spread"] == 0.0  # every replica holds the same weights


def test_no_sync_accumulation_equals_the_large_batch():
    got = result(mpirun("mlp:2"))
    assert got["max_rel_diff"] < 1e-6
    assert got["replica_spread"] == 0.0


def test_distributed_trainer_equals_one_process_with_the_whole_batch():
    got = result(mpirun("trainer"))
    assert got["keys"]
    assert got["max_rel_diff"] < 1e-6
    assert got["history_max_diff"] < 1e-6


def test_a_killed_rank_stops_the_job_without_hanging():
    start = time.monotonic()
    proc = mpirun("killed", timeout=60)
    took = time.monotonic() - start
    assert proc.returncode != 0
    assert "RESULT" not in proc.stdout
    assert took < 60


DIGITS = """
name = "digits_mlp"
seed = 4
epochs = 8
[data]
dataset = "digits"
batch_size = 16
[model]
layers = [
  { type = "Flatten" },
  { type = "Linear", in_features = 64, out_features = 32 },
  { type = "ReLU" },
  { type = "Linear", in_features = 32, out_features = 10 },
]
[optimizer]
type = "Adam"
lr = 0.01
[callbacks]
plotter = false
"""


def _axonic(args, n=2, **kw):
    cmd, env = launcher(n)
    return subprocess.Popen(cmd + [sys.executable, "-m", "axonic.cli.main", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _weights(run):
    import axonic

    return {k: v.numpy() for k, v in axonic.load(run / "model.safetensors").items()}


def test_mpirun_axonic_train_killed_then_resumed_is_bit_identical(tmp_path):
    import random

    import numpy as np

    cfg = tmp_path / "digits.toml"
    cfg.write_text(DIGITS)
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    proc = _axonic(["train", str(cfg), "--out", str(whole), "--quiet"])
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    for name in ("config.json", "model.safetensors", "test_metrics.json", "checkpoints"):
        assert (whole / name).exists(), name  # written once, by rank 0
    assert "test accuracy" in out and out.count("run directory:") == 1  # rank 0 alone prints

    proc = _axonic(["train", str(cfg), "--out", str(cut), "--quiet"])
    wait_for = random.Random().randint(1, 5)  # kill once a checkpoint of this epoch exists
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        names = [p.name for p in (cut / "checkpoints").glob("ckpt-e*")] \
            if (cut / "checkpoints").exists() else []
        epochs = [int(n[len("ckpt-e"):].split("-")[0]) for n in names]  # ckpt-e<epoch>-s...
        if max(epochs, default=-1) >= wait_for or proc.poll() is not None:
            break
        time.sleep(0.05)
    ranks = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
    pids = [int(p) for p in ranks.stdout.split()]
    assert pids, "no rank processes found under mpirun"
    os.kill(random.Random().choice(pids), 9)
    proc.communicate(timeout=60)  # the job stops: no hang
    assert proc.returncode != 0
    assert not (cut / "model.safetensors").exists()

    proc = _axonic(["train", "--resume", str(cut), "--quiet"])
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    a, b = _weights(whole), _weights(cut)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    hist = [json.loads((r / "test_metrics.json").read_text())["history"] for r in (whole, cut)]
    assert hist[0] == hist[1]


def test_tune_workers_under_mpirun_share_one_study_and_sample_apart(tmp_path):
    import csv

    text = (ROOT / "examples" / "tune" / "cnn_digits.toml").read_text()
    text = text.replace("epochs = 8", "epochs = 1").replace("trials = 12", "trials = 4")
    cfg = tmp_path / "study.toml"
    cfg.write_text(text)
    proc = _axonic(["tune", str(cfg), "--out", str(tmp_path / "study"), "--quiet"],
                   cwd=tmp_path)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rows = list(csv.DictReader((tmp_path / "study" / "trials.csv").open()))
    assert len(rows) == 4 and all(r["state"] == "COMPLETE" for r in rows)
    points = {(r["data.batch_size"], r["model.layers.0.out_channels"], r["optimizer.lr"])
              for r in rows}
    assert len(points) == 4  # each rank's sampler is seeded apart

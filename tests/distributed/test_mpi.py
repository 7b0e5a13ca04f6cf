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


def mpirun(mode, n=2, timeout=120):
    if shutil.which("mpirun") is None:
        pytest.fail("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
    cmd = ["mpirun", "-n", str(n), "--oversubscribe"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}:{ROOT}", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
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


def test_a_killed_rank_stops_the_job_without_hanging():
    start = time.monotonic()
    proc = mpirun("killed", timeout=60)
    took = time.monotonic() - start
    assert proc.returncode != 0
    assert "RESULT" not in proc.stdout
    assert took < 60

"""kill -9 at random moments of a checkpointing run, and in the middle of deleting an old
checkpoint: afterwards every ``ckpt-*`` folder is a complete, verified checkpoint, ``last``
points at one, and resuming after the last kill ends bit-identical to a run never killed."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from axonic.train.checkpoint import verify_checkpoint
from tests.train import tiny
from tests.train.test_resume import assert_identical, snapshot

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}


def start(folder: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.fuzz.killable", str(folder), mode],
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def kill_once(folder: Path, mode: str, rng: random.Random) -> bool:
    """Start the run and kill -9 it (at a random moment, or inside the clean-up); False if
    it finished first."""
    marker = Path(f"{folder}.in-cleanup")
    marker.unlink(missing_ok=True)
    proc = start(folder, mode)
    if mode == "cleanup":
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        time.sleep(rng.uniform(0.3, 2.5))  # from start-up to late training
    if proc.poll() is not None:
        assert proc.returncode == 0, proc.stderr.read().decode()
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def assert_consistent(folder: Path) -> None:
    """No half-written or half-deleted checkpoint is visible after a kill."""
    if not folder.exists():
        return
    for p in folder.iterdir():
        if p.name.startswith("ckpt-"):
            verify_checkpoint(p)  # raises on anything incomplete
    last = folder / "last"
    if last.is_symlink():
        verify_checkpoint(last)


def run_kills(tmp_path, kills: int, seed: int):
    rng = random.Random(seed)
    reference = tiny.run(tmp_path / "reference", epochs=6, every_n_steps=100)
    folder = tmp_path / "killed"
    done = 0
    for i in range(kills):
        mode = "cleanup" if i % 2 else "random"
        if kill_once(folder, mode, rng):
            done += 1
        assert_consistent(folder)
    resumed = tiny.run(folder, epochs=6, resume=(folder / "last").is_symlink(),
                       every_n_steps=1)
    assert_identical(snapshot(resumed), snapshot(reference))
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".trash-")]
    assert leftovers == []  # the next save cleaned what a kill interrupted
    return done


def test_kill9_at_random_moments_and_in_cleanup_never_leaves_a_corrupt_folder(tmp_path):
    assert run_kills(tmp_path, kills=6, seed=0) >= 4


@pytest.mark.slow
def test_kill9_fifty_times_then_resume_is_bit_identical(tmp_path):
    assert run_kills(tmp_path, kills=50, seed=1) >= 40


def test_weights_of_a_killed_run_match_after_resume_even_with_trash_left(tmp_path):
    """A kill between rename and delete leaves a hidden .trash- folder, never a ckpt-."""
    folder = tmp_path / "killed"
    assert kill_once(folder, "cleanup", random.Random(0))
    assert [p for p in folder.iterdir() if p.name.startswith(".trash-")]
    assert_consistent(folder)
    reference = tiny.run(tmp_path / "reference", epochs=6, every_n_steps=100)
    resumed = tiny.run(folder, epochs=6, resume=True, every_n_steps=1)
    for k, v in snapshot(reference)[0].items():
        assert np.array_equal(v, snapshot(resumed)[0][k])

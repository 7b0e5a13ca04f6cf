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


def start(folder: Path, mode: str, epochs: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.fuzz.killable", str(folder), mode,
                             str(epochs)],
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def kill_once(folder: Path, mode: str, rng: random.Random, epochs: int = 6) -> bool:
    """Start the run and kill -9 it (at a random moment, or inside the clean-up); False if
    it finished first."""
    marker = Path(f"{folder}.in-cleanup")
    marker.unlink(missing_ok=True)
    proc = start(folder, mode, epochs)
    if mode == "cleanup":
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        time.sleep(rng.uniform(0.3, 1.5))  # from start-up into training
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


def run_kills(tmp_path, kills: int, seed: int, epochs: int):
    """kill -9 the run ``kills`` times (alternately at a random moment and inside the
    clean-up), checking the folder after each kill; then resume to the end."""
    rng = random.Random(seed)
    reference = tiny.run(tmp_path / "reference", epochs=epochs, every_n_steps=100)
    folder = tmp_path / "killed"
    done = attempts = 0
    while done < kills and attempts < 2 * kills:
        mode = "cleanup" if attempts % 2 else "random"
        attempts += 1
        done += kill_once(folder, mode, rng, epochs)
        assert_consistent(folder)
    resumed = tiny.run(folder, epochs=epochs, resume=(folder / "last").is_symlink(),
                       every_n_steps=1)
    assert_identical(snapshot(resumed), snapshot(reference))
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith((".trash-", ".ckpt-"))]
    assert leftovers == []  # the next run cleaned what a kill interrupted
    print(f"{done} kills in {attempts} runs; every checkpoint verified; resume bit-identical")
    return done


@pytest.mark.slow  # a subprocess trained for seconds
def test_kill9_at_random_moments_and_in_cleanup_never_leaves_a_corrupt_folder(tmp_path):
    assert run_kills(tmp_path, kills=4, seed=0, epochs=6) == 4


@pytest.mark.slow
def test_kill9_fifty_times_then_resume_is_bit_identical(tmp_path):
    assert run_kills(tmp_path, kills=50, seed=1, epochs=60) == 50


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

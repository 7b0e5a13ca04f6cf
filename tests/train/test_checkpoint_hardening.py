"""Issue 12 findings on checkpoints, one test each: every bad manifest or state is one
CheckpointError, a refused resume changes nothing, nothing outside the checkpoint folder is
opened, clean-up is atomic and touches only axonic's checkpoints, a run folder has one
writer, and a broken ``last`` link is an error."""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from axonic.train import CheckpointError, ModelCheckpoint
from axonic.train.checkpoint import (
    CheckpointDir,
    _manifest_digest,
    read_checkpoint,
    write_checkpoint,
)
from axonic.train.run_dir import RunDirError
from tests.fuzz.harness import spy_opens
from tests.train import tiny

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    tiny.run(folder / "ckpts", epochs=1, every_n_steps=100)
    return (folder / "ckpts" / "last").resolve()


def copy_of(trained, tmp_path):
    import shutil

    return Path(shutil.copytree(trained, tmp_path / "ckpt"))


def edit_manifest(path, edit, reseal=True):
    m = json.loads((path / "manifest.json").read_text())
    m = edit(m)
    if reseal and isinstance(m, dict):
        m["sha256"] = _manifest_digest(m)
    (path / "manifest.json").write_text(json.dumps(m) if not isinstance(m, str) else m)


def edit_state(path, edit):
    state = json.loads((path / "state.json").read_text())
    edit(state)
    data = json.dumps(state).encode()
    (path / "state.json").write_bytes(data)
    edit_manifest(path, lambda m: {**m, "files": {**m["files"], "state.json": {
        "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}}})


def weights(t):
    return {k: v.numpy().copy() for k, v in t.model.state_dict().items()}


def resume_refused(path, match):
    """Resume from ``path`` must raise CheckpointError(match) and leave the model as it was."""
    t = tiny.trainer()
    before = weights(t)
    with pytest.raises(CheckpointError, match=match):
        t.fit(tiny.data(), epochs=2, batch_size=8, verbose=0, resume_from=path)
    after = weights(t)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_manifest_without_files_key_is_a_clean_error(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_manifest(path, lambda m: {k: v for k, v in m.items() if k != "files"})
    resume_refused(path, "'files' must map at most 64 file names")


def test_manifest_entry_without_size_is_a_clean_error(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_manifest(path, lambda m: {**m, "files": {**m["files"], "state.json": {"sha256": "0"}}})
    resume_refused(path, "the entry of 'state.json' must be")


def test_manifest_that_is_a_list_is_a_clean_error(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_manifest(path, lambda m: [m], reseal=False)
    resume_refused(path, "is not an axonic-checkpoint manifest")


def test_deeply_nested_manifest_is_a_clean_error_not_a_recursion_error(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_manifest(path, lambda m: "[" * 5000 + "]" * 5000, reseal=False)
    resume_refused(path, "manifest.json is JSON nested deeper than 64 levels")


def test_edited_manifest_is_refused_by_its_own_checksum(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_manifest(path, lambda m: {**m, "note": "edited"}, reseal=False)
    resume_refused(path, "does not match its own SHA256")


def test_extra_rng_of_the_wrong_type_is_a_clean_error_and_restores_nothing(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_state(path, lambda s: s["extra"].__setitem__("rng", 1.5))
    resume_refused(path, "'extra.rng' must hold axonic and numpy generator states")


def test_state_missing_the_optimizer_is_a_clean_error(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    edit_state(path, lambda s: s.pop("optimizer"))
    resume_refused(path, "'optimizer' must be an object")


def test_a_restore_failing_half_way_rolls_back_everything(trained, tmp_path, monkeypatch):
    t = tiny.trainer()
    before = weights(t)
    opt_before = json.dumps(t.optimizer.state_dict()["param_groups"])

    real, calls = t.schedule.load_state_dict, []

    def broken_once(state):  # fails on the checkpoint's state, works for the rollback
        calls.append(state)
        if len(calls) == 1:
            raise ValueError("scheduler state from another schedule")
        real(state)
    monkeypatch.setattr(t.schedule, "load_state_dict", broken_once)
    with pytest.raises(CheckpointError, match="does not fit this run .*nothing was restored"):
        t.fit(tiny.data(), epochs=2, batch_size=8, verbose=0, resume_from=trained)
    after = weights(t)
    assert all(np.array_equal(before[k], after[k]) for k in before)  # the model came first
    assert json.dumps(t.optimizer.state_dict()["param_groups"]) == opt_before
    assert t.optimizer.state_dict()["state"] == {}
    assert len(calls) == 2  # tried, then rolled back


@pytest.mark.parametrize("name", ["../../outside.safetensors", "/etc/hostname"])
def test_manifest_entries_outside_the_folder_are_refused_unopened(trained, tmp_path, name):
    path = copy_of(trained, tmp_path)
    (tmp_path / "outside.safetensors").write_bytes((path / "model.safetensors").read_bytes())
    edit_manifest(path, lambda m: {**m, "files": {
        **m["files"], name: {"size": 10, "sha256": "0" * 64}}})
    seen = []
    with spy_opens(path, seen):
        with pytest.raises(CheckpointError, match="unexpected file|not a plain file name"):
            read_checkpoint(path)
    assert seen == []


def test_a_symlinked_model_file_is_not_followed(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    outside = tmp_path / "outside.safetensors"
    os.replace(path / "model.safetensors", outside)
    os.symlink(outside, path / "model.safetensors")
    resume_refused(path, "cannot be opened as a regular file .*symbolic links are not followed")


def test_a_fifo_in_a_checkpoint_does_not_block(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    os.unlink(path / "state.json")
    os.mkfifo(path / "state.json")
    resume_refused(path, "is not a regular file")


def test_a_huge_file_is_refused_before_it_is_read(trained, tmp_path):
    path = copy_of(trained, tmp_path)
    with open(path / "model.safetensors", "r+b") as f:
        f.truncate(2**34)  # sparse: 16 GiB claimed, nothing allocated
    resume_refused(path, "model.safetensors has 17179869184 bytes, the manifest says")


def save(d, epoch, step):
    return d.save({"model": {"w": np.full(2, step, np.float32)}}, {"epoch": epoch,
                                                                    "step": step})


def test_interrupted_clean_up_leaves_no_half_deleted_checkpoint(tmp_path, monkeypatch):
    import shutil

    d = CheckpointDir(tmp_path)
    first = save(d, 1, 1)
    real = shutil.rmtree

    def killed_half_way(p, ignore_errors=False):  # deletes one file, then "dies"
        next(Path(p).iterdir()).unlink()
        raise KeyboardInterrupt
    monkeypatch.setattr(shutil, "rmtree", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        save(d, 2, 2)
    monkeypatch.setattr(shutil, "rmtree", real)
    assert not first.exists()  # renamed away whole before deletion began
    ckpts = [p for p in tmp_path.iterdir() if p.name.startswith("ckpt-")]
    assert len(ckpts) == 1 and read_checkpoint(ckpts[0])[1]["step"] == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".trash-")]
    save(d, 3, 3)  # the next save removes the leftover
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".trash-")] == []


def test_clean_up_keeps_a_users_folder_that_merely_matches_ckpt(tmp_path):
    mine = tmp_path / "ckpt-mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    looks_like = tmp_path / "ckpt-e0001-s00000001-abcdef"
    looks_like.mkdir()  # our name pattern, but no manifest of ours
    d = CheckpointDir(tmp_path)
    save(d, 1, 1)
    save(d, 2, 2)
    assert (mine / "notes.txt").read_text() == "keep me" and looks_like.is_dir()


def test_a_deleted_last_target_is_an_error_not_a_fresh_start(tmp_path):
    import shutil

    tiny.run(tmp_path / "ckpts", epochs=1, every_n_steps=100)
    shutil.rmtree((tmp_path / "ckpts" / "last").resolve())
    resume_refused(tmp_path / "ckpts", "last points to .* which is missing")


@pytest.mark.slow  # a subprocess trained for seconds
def test_a_second_writer_gets_in_use_by_pid_and_the_first_finishes_untouched(tmp_path):
    folder = tmp_path / "ckpts"
    first = subprocess.Popen([sys.executable, "-m", "tests.train.tiny", str(folder), "0.05"],
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not (folder / "last").is_symlink() and time.monotonic() < deadline:
            time.sleep(0.01)
        t = tiny.trainer(callbacks=[ModelCheckpoint(folder, every_n_steps=1)])
        with pytest.raises(RunDirError, match=f"is in use by pid {first.pid}"):
            t.fit(tiny.data(), epochs=6, batch_size=8, verbose=0)
        assert t.global_step == 0  # refused before the first step
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first run ends 36 steps later, whole
            target = os.readlink(folder / "last") if (folder / "last").is_symlink() else ""
            if "-s00000036-" in target:
                break
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.02)
        assert read_checkpoint(folder / "last")[1]["step"] == 36
    finally:
        first.kill()
        first.wait()
    reference = tiny.run(tmp_path / "ref", epochs=6)
    resumed = tiny.run(folder, epochs=6, resume=True)  # the lock died with its holder
    for k, v in weights(reference).items():
        assert np.array_equal(v, weights(resumed)[k])


def test_an_unwritable_checkpoint_folder_is_found_before_the_first_epoch(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should go")
    began = []

    class Spy(tiny.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            began.append(epoch)
    t = tiny.trainer(callbacks=[ModelCheckpoint(blocker / "ckpts"), Spy()])
    with pytest.raises(RunDirError, match="is not writable"):
        t.fit(tiny.data(), epochs=2, batch_size=8, verbose=0)
    assert began == []


def test_write_checkpoint_manifest_carries_its_own_sha256(tmp_path):
    path = write_checkpoint(tmp_path / "c", {"model": {"w": np.zeros(1, np.float32)}},
                            {"epoch": 0})
    m = json.loads((path / "manifest.json").read_text())
    assert m["version"] == 2 and m["sha256"] == _manifest_digest(m)

"""One fuzz case each for weight files, checkpoints and configs, classified as ``ok`` (the
mutation was harmless and loaded), ``clean`` (refused with axonic's own one-line error),
or a failure: ``raw`` (any other exception), ``half`` (refused after changing the
trainer), ``hang`` (no answer in time), ``outside`` (a file outside the checkpoint folder
was opened). Used by tests/fuzz (fast, seeded) and bench/fuzz_load_paths.py (large)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import struct
import time
from pathlib import Path

import numpy as np

from tests.fuzz.mutate import dumps, mutate_bytes, mutate_json, replace_file, to_toml

FAILURES = ("raw", "half", "hang", "outside")


@contextlib.contextmanager
def deadline(seconds: float):
    """Raise ``TimeoutError`` in the body after ``seconds``; an outer timer (pytest-timeout's
    per-test limit) is put back afterwards with what remained of it."""
    def alarm(*_):
        raise TimeoutError("hang")
    outer, _ = signal.getitimer(signal.ITIMER_REAL)
    began = time.monotonic()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - began), 1e-3))


@contextlib.contextmanager
def spy_opens(folder: Path, seen: list):
    """Record every ``os.open`` whose target lies outside ``folder``."""
    real = os.open
    inside = os.path.realpath(folder)

    def spy(path, flags, mode=0o777, *, dir_fd=None):
        full = os.fspath(path)
        if dir_fd is not None:
            full = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), full)
        target = os.path.realpath(full)
        if flags & os.O_NOFOLLOW:  # the final link is not followed: it opens nothing outside
            head, tail = os.path.split(full)
            target = os.path.join(os.path.realpath(head), tail)
        if not (target == inside or target.startswith(inside + os.sep)):
            seen.append(target)
        return real(path, flags, mode, dir_fd=dir_fd)
    os.open = spy
    try:
        yield
    finally:
        os.open = real


# --- weight files -----------------------------------------------------------------------------
def weights_template(folder: Path) -> Path:
    import axonic

    path = folder / "w.safetensors"
    axonic.save({"weight": np.arange(12, dtype=np.float32).reshape(3, 4),
                 "bias": np.ones(3, np.float64), "step": np.array(7, np.int64)}, path)
    return path


def _header_edit(rng, data: bytes) -> bytes:
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    new = dumps(mutate_json(rng, header))
    return struct.pack("<Q", len(new)) + new + data[8 + n:]


def case_weights(rng, template: Path, work: Path) -> str:
    import axonic

    path = work / "w.safetensors"
    data = template.read_bytes()
    kind = rng.integers(3)
    if kind == 0:
        path.write_bytes(mutate_bytes(rng, data))
    elif kind == 1:
        path.write_bytes(_header_edit(rng, data))
    else:
        path.write_bytes(data)
        replace_file(rng, path, work / "outside.safetensors")
    try:
        with deadline(10):
            axonic.load(path)
        return "ok"
    except TimeoutError:
        return "hang"
    except (ValueError, TypeError, FileNotFoundError) as e:
        return "clean" if str(e).startswith("axonic.load") else f"raw:{type(e).__name__}: {e}"
    except Exception as e:  # noqa: BLE001
        return f"raw:{type(e).__name__}: {e}"


# --- checkpoints ------------------------------------------------------------------------------
def checkpoint_template(folder: Path) -> Path:
    from tests.train import tiny

    tiny.run(folder / "ckpts", epochs=1, every_n_steps=4)
    return (folder / "ckpts" / "last").resolve()


def _reseal(path: Path, reseal_manifest: bool = True) -> None:
    """Recompute the manifest (as a forger would), so the edits reach the state checks."""
    m = json.loads((path / "manifest.json").read_bytes())
    for name in m["files"]:
        data = (path / name).read_bytes()
        m["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if reseal_manifest:
        from axonic.train.checkpoint import _manifest_digest

        m["sha256"] = _manifest_digest(m)
    (path / "manifest.json").write_bytes(json.dumps(m).encode())


def _mutate_arrays(rng, path: Path) -> None:
    import axonic

    name = ["model", "optimizer", "extra"][int(rng.integers(3))] + ".safetensors"
    arrays = {k: v.numpy() for k, v in axonic.load(path / name).items()}
    if arrays:
        key = list(arrays)[int(rng.integers(len(arrays)))]
        how = rng.integers(4)
        if how == 0:
            del arrays[key]
        elif how == 1:
            arrays[key] = np.zeros((2, 2, 2), np.float32)
        elif how == 2:
            arrays[key] = arrays[key].astype(np.int8)
        else:
            arrays["stray." + key] = arrays.pop(key)
    else:
        arrays["stray"] = np.zeros(1, np.float32)
    (path / name).unlink()
    axonic.save(arrays, path / name)


def mutate_checkpoint(rng, path: Path, kind: str, outside: Path) -> None:
    files = ["manifest.json", "state.json", "model.safetensors", "optimizer.safetensors",
             "extra.safetensors"]
    if kind == "corrupted":  # bytes changed on disk, manifest untouched
        name = path / files[int(rng.integers(len(files)))]
        if rng.random() < 0.8:
            name.write_bytes(mutate_bytes(rng, name.read_bytes()))
        else:
            replace_file(rng, name, outside)
    elif kind == "edited":  # state or arrays edited and the manifest re-sealed
        if rng.random() < 0.6:
            state = json.loads((path / "state.json").read_bytes())
            (path / "state.json").write_bytes(dumps(mutate_json(rng, state)))
        else:
            _mutate_arrays(rng, path)
        _reseal(path)
    else:  # "manifest": the manifest's tree edited, re-sealed or not
        m = json.loads((path / "manifest.json").read_bytes())
        m = mutate_json(rng, m)
        if isinstance(m, dict) and rng.random() < 0.7:
            from axonic.train.checkpoint import _manifest_digest

            m["sha256"] = _manifest_digest(m)
        (path / "manifest.json").write_bytes(dumps(m))


def _trainer_state(t) -> tuple:
    from axonic.train.checkpoint import split_arrays

    weights = {k: v.numpy().copy() for k, v in t.model.state_dict().items()}
    _, opt = split_arrays(t.optimizer.state_dict())
    return weights, {k: v.copy() for k, v in opt.items()}


def _same(a, b) -> bool:
    return all(list(x) == list(y) and all(np.array_equal(x[k], y[k]) for k in x)
               for x, y in zip(a, b))


def case_checkpoint(rng, template: Path, work: Path, kind: str) -> str:
    from axonic.train.checkpoint import CheckpointError
    from tests.train import tiny

    path = work / "c" / "ckpt"
    shutil.copytree(template, path)
    outside = work / "outside.safetensors"
    shutil.copy(template / "model.safetensors", outside)
    mutate_checkpoint(rng, path, kind, outside)
    t = tiny.trainer()
    before = _trainer_state(t)
    seen: list = []
    try:
        with deadline(20), spy_opens(path, seen), contextlib.redirect_stderr(io.StringIO()):
            t.fit(tiny.data(), epochs=1, batch_size=8, verbose=0, resume_from=path)
        outcome = "ok"
    except TimeoutError:
        return "hang"
    except CheckpointError:
        outcome = "clean" if _same(before, _trainer_state(t)) else "half"
    except Exception as e:  # noqa: BLE001
        return f"raw:{type(e).__name__}: {str(e)[:200]}"
    return f"outside:{seen[0]}" if seen else outcome


# --- configs ---------------------------------------------------------------------------------
def case_config(rng, base: dict, work: Path) -> str:
    """``axonic summary`` on a mutated config: exit 0 or 2 with one line, nothing else."""
    from axonic.cli.main import main

    cfg = mutate_json(rng, base, toml=True)
    if rng.random() < 0.3:
        cfg = mutate_json(rng, cfg, toml=True) if isinstance(cfg, dict) else cfg
    path = work / "c.toml"
    path.write_text(to_toml(cfg))
    err = io.StringIO()
    try:
        with deadline(60), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(err):
            code = main(["summary", str(path)])
    except TimeoutError:
        return "hang"
    except BaseException as e:  # noqa: BLE001
        return f"raw:{type(e).__name__}: {str(e)[:200]}"
    lines = err.getvalue().strip().splitlines()
    if code == 0:
        return "ok"
    if code == 2 and len(lines) == 1 and ": error: " in lines[0]:
        return "clean"
    return f"raw:exit {code}: {err.getvalue()[:300]}"

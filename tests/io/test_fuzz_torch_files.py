"""Fuzzing axonic.load on PyTorch files: mutated .pt files (bit flips, truncations, pickle
opcode changes, spliced payloads calling os.system / builtins.eval / subprocess) give a
clean error naming the file or load harmlessly; none runs code (a payload that would
create a marker file never does)."""

import io
import os
import pickle
import zipfile
from collections import Counter

import numpy as np
import pytest

import axonic
from axonic.io import CheckpointError
from tests.conftest import requires_torch, torch

OPCODES = b"().0123abcdeghjlqrsuGJKMNQRXbtCBTU}])\x80\x81\x85\x86\x87\x88\x89\x8a\x8b\x8c" \
          b"\x8d\x8e\x8f\x90\x91\x93\x94\x95ioPSVILFgpx\x82\x83\x84\x92\x96\x97\x98"


class Payload:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def payloads(marker) -> list:
    """Pickles that create ``marker`` when an ordinary pickle reader loads them."""
    import subprocess

    cmd = f"touch {marker}"
    objs = [Payload(os.system, cmd), Payload(eval, f"open({str(marker)!r}, 'w').close()"),
            Payload(exec, f"open({str(marker)!r}, 'w').close()"),
            Payload(subprocess.check_output, ["touch", str(marker)]),
            {"state": [Payload(os.system, cmd)]}]
    return [pickle.dumps(o, protocol=p) for o in objs for p in (2, 4)]


def splice(rng, pkl: bytes, marker) -> bytes:
    """A call to os.system spliced into a pickle at a random point."""
    call = b"cos\nsystem\n(X" + len(f"touch {marker}").to_bytes(4, "little") + \
        f"touch {marker}".encode() + b"tR"
    at = int(rng.integers(0, len(pkl)))
    return pkl[:at] + call + pkl[at:]


def mutate_bytes(rng, data: bytes) -> bytes:
    kind = int(rng.integers(0, 5))
    buf = bytearray(data)
    if kind == 0:  # bit flips
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(0, len(buf)))
            buf[i] ^= 1 << int(rng.integers(0, 8))
    elif kind == 1:  # truncation
        del buf[int(rng.integers(0, len(buf))):]
    elif kind == 2:  # an opcode replaced by another
        buf[int(rng.integers(0, len(buf)))] = OPCODES[int(rng.integers(0, len(OPCODES)))]
    elif kind == 3:  # random bytes inserted
        at = int(rng.integers(0, len(buf)))
        buf[at:at] = rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
    else:  # a span deleted
        at = int(rng.integers(0, len(buf)))
        del buf[at:at + int(rng.integers(1, 32))]
    return bytes(buf)


def rezip(data: bytes, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, edit(name, zin.read(name)))
    return out.getvalue()


def bad_global(rng, pkl: bytes) -> bytes:
    names = [b"os\nsystem", b"builtins\neval", b"__builtin__\nexec", b"posix\nsystem",
             b"subprocess\nPopen", b"torch\nload", b"numpy\nload",
             b"torch._utils\n_rebuild_qtensor"]
    return pkl.replace(b"torch._utils\n_rebuild_tensor_v2",
                       names[int(rng.integers(0, len(names)))], 1)


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return make_bases(tmp_path_factory.mktemp("bases"))


def make_bases(tmp) -> dict:
    """The files the mutations start from: torch.save's zip and legacy formats, axonic's."""
    lin = torch.nn.Linear(3, 2)
    base = torch.arange(12.0).reshape(3, 4)
    obj = {"model": lin.state_dict(), "opt": {"state": {0: {"step": torch.tensor(3.0)}},
           "param_groups": [{"lr": 0.1, "params": [0]}]}, "view": base[1:, ::2], "base": base,
           "iter": 7, "name": "run", "flags": (True, None), "half": torch.ones(2).half()}
    out = {}
    for legacy in (False, True):
        torch.save(obj, tmp / "b.pt", _use_new_zipfile_serialization=not legacy)
        out["legacy" if legacy else "zip"] = (tmp / "b.pt").read_bytes()
    buf = io.BytesIO()
    axonic.save({"model": {k: axonic.tensor(v.detach().numpy()) for k, v in
                           lin.state_dict().items()}, "iter": 7}, buf)
    out["axonic"] = buf.getvalue()
    return out


def fuzz_case(rng, bases, marker) -> bytes:
    kind = int(rng.integers(0, 6))
    if kind == 0:
        return mutate_bytes(rng, bases[["zip", "legacy", "axonic"][int(rng.integers(0, 3))]])
    if kind == 1:  # the same inside the zip, so the CRC still matches and the pickle is read
        return rezip(bases["zip"], lambda n, d: mutate_bytes(rng, d)
                     if n.endswith("data.pkl") or rng.random() < 0.1 else d)
    if kind == 2:
        return rezip(bases["zip"], lambda n, d: (splice(rng, d, marker) if rng.random() < 0.5
                                                 else bad_global(rng, d))
                     if n.endswith("data.pkl") else d)
    if kind == 3:
        legacy = bases["legacy"]
        return splice(rng, legacy, marker) if rng.random() < 0.5 else bad_global(rng, legacy)
    all_payloads = payloads(marker)
    p = all_payloads[int(rng.integers(0, len(all_payloads)))]
    if kind == 4:
        return rezip(bases["zip"], lambda n, d: p if n.endswith("data.pkl") else d)
    return mutate_bytes(rng, p) if rng.random() < 0.3 else p  # a bare pickle: legacy path


def run_fuzz(n: int, seed: int, tmp_path) -> Counter:
    rng = np.random.default_rng(seed)
    marker = tmp_path / "marker"
    outcomes, bad = Counter(), []
    for i in range(n):
        data = fuzz_case(rng, bases_cache, marker)
        path = tmp_path / f"case{i}.pt"
        path.write_bytes(data)
        try:
            axonic.load(path, map_location=None if i % 2 else "cpu")
            outcomes["loaded"] += 1
        except CheckpointError as e:
            outcomes[type(e).__name__] += 1
            if str(path) not in str(e):
                bad.append((i, f"error does not name the file: {e}"))
        except ValueError as e:  # safetensors' own checks, for files that lost their magic
            outcomes["ValueError"] += 1
            if str(path) not in str(e):
                bad.append((i, f"error does not name the file: {e}"))
        except RuntimeError as e:  # a mutated saved location, with map_location=None
            outcomes["RuntimeError"] += 1
            if str(path) not in str(e) or "pass map_location" not in str(e):
                bad.append((i, f"unclear RuntimeError: {e}"))
        except Exception as e:  # noqa: BLE001 - anything else is a finding
            bad.append((i, f"{type(e).__name__}: {e}"))
        path.unlink()
        assert not marker.exists(), f"case {i} ran code"
    assert not bad, bad[:5]
    return outcomes


bases_cache: dict = {}


@requires_torch
def test_300_mutated_pt_files_give_clean_errors_and_run_nothing(tmp_path, bases):
    bases_cache.update(bases)
    outcomes = run_fuzz(300, 0, tmp_path)
    assert outcomes["ForbiddenGlobalError"] > 20 and outcomes["CheckpointError"] > 50
    assert sum(outcomes.values()) == 300


@requires_torch
@pytest.mark.slow
def test_10000_mutated_pt_files_give_clean_errors_and_run_nothing(tmp_path, bases):
    bases_cache.update(bases)
    outcomes = run_fuzz(10_000, 1, tmp_path)
    print(dict(outcomes))
    assert sum(outcomes.values()) == 10_000 and outcomes["ForbiddenGlobalError"] > 1000


def test_the_payloads_do_run_code_under_an_ordinary_pickle_reader(tmp_path):
    marker = tmp_path / "marker"
    for p in payloads(marker):  # so the fuzz cases above would catch a reader that runs code
        pickle.loads(p)
        assert marker.exists()
        marker.unlink()

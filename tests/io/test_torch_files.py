"""axonic.load reads files written by torch.save (zip and legacy formats) without PyTorch:
every dtype, views of shared storages, nested checkpoints, and refuses any global that is
not tensor reconstruction."""

import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.io import CheckpointError, ForbiddenGlobalError
from tests.conftest import requires_torch, torch

FORMATS = pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])


def save(obj, path, legacy):
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def rezip(src, dst, edit):
    """Copy a zip-format file, passing each record through ``edit(name, bytes)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for name in zin.namelist():
            zout.writestr(name, edit(name, zin.read(name)))
    return dst


def sample():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(3, 4, generator=g)
    f[0, :3] = torch.tensor([float("inf"), float("-inf"), float("nan")])
    out = OrderedDict()
    for dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64):
        out[str(dt)] = f.to(dt)
    for dt in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        info = torch.iinfo(dt)
        out[str(dt)] = torch.tensor([info.min, info.max, 0, 1], dtype=dt)
    out["torch.bool"] = f > 0
    out["scalar"] = torch.tensor(2.5)
    out["empty"] = torch.zeros(0, 5)
    return out


def expected(t):
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


@requires_torch
@FORMATS
def test_every_dtype_reads_back_equal(tmp_path, legacy):
    ref = sample()
    back = axonic.load(save(ref, tmp_path / "d.pt", legacy))
    assert isinstance(back, OrderedDict) and list(back) == list(ref)
    for k, t in ref.items():
        want = expected(t)
        got = back[k].numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, k
        assert got.tobytes() == want.tobytes(), k  # bfloat16 widens to float32 exactly


@requires_torch
@FORMATS
def test_views_keep_offsets_strides_and_share_one_storage(tmp_path, legacy):
    base = torch.arange(24.0).reshape(4, 6)
    views = {"base": base, "rows": base[1:3, ::2], "t": base.t(), "row": base[2],
             "expand": base[0, :1].expand(3, 5), "empty_view": base[4:]}
    back = axonic.load(save(views, tmp_path / "v.pt", legacy))
    for k, t in views.items():
        np.testing.assert_array_equal(back[k].numpy(), t.numpy(), err_msg=k)
    assert back["t"].numpy().strides == (8 * 0 + 4, 24)  # a transposed view, not a copy
    back["base"]._data[2, 0] = -1.0  # one storage: the views see the write
    assert back["rows"].numpy()[1, 0] == -1.0 and back["row"].numpy()[0] == -1.0
    assert not back["expand"].numpy().flags.writeable  # overlapping elements: read-only


@requires_torch
@FORMATS
def test_a_training_checkpoint_comes_back_as_nested_dicts(tmp_path, legacy):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": 10,
            "best_val_loss": torch.tensor(1.25), "config": {"n_embd": 4, "name": "gpt",
            "betas": (0.9, 0.95), "dropout": 0.0, "bias": False, "init_from": None},
            "param": torch.nn.Parameter(torch.ones(2)), "grad": torch.ones(2).requires_grad_()}
    back = axonic.load(save(ckpt, tmp_path / "ckpt.pt", legacy))
    assert back["iter_num"] == 10 and back["config"] == ckpt["config"]
    assert type(back["model"]) is OrderedDict and list(back["model"]) == list(ckpt["model"])
    assert back["model"]._metadata == ckpt["model"]._metadata
    for k, t in ckpt["model"].items():
        np.testing.assert_array_equal(back["model"][k].numpy(), t.numpy(), err_msg=k)
    assert back["optimizer"]["param_groups"] == ckpt["optimizer"]["param_groups"]
    for i, state in ckpt["optimizer"]["state"].items():
        for k, t in state.items():
            np.testing.assert_array_equal(back["optimizer"]["state"][i][k].numpy(), t.numpy())
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    assert back["grad"].requires_grad and not back["model"]["0.weight"].requires_grad
    assert back["best_val_loss"].item() == 1.25
    ax = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ax.load_state_dict(back["model"])
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    model.eval()
    ax.eval()
    np.testing.assert_allclose(ax(axonic.tensor(x)).detach().numpy(),
                               model(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


@requires_torch
def test_files_are_read_in_a_process_without_torch(tmp_path):
    ref = sample()
    for legacy in (False, True):
        save(ref, tmp_path / f"{legacy}.pt", legacy)
    np.savez(tmp_path / "want.npz", **{k: expected(t) for k, t in ref.items()})
    code = f"""
import sys
sys.modules["torch"] = None  # importing torch now fails
import numpy as np, axonic
sys.modules["pickle"] = sys.modules["_pickle"] = None  # and so does importing pickle
want = np.load({str(tmp_path / "want.npz")!r})
for name in ("False.pt", "True.pt"):
    got = axonic.load({str(tmp_path)!r} + "/" + name)
    for k in want.files:
        assert got[k].numpy().tobytes() == want[k].tobytes(), (name, k)
print("read", len(want.files), "tensors from both formats")
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "read 13 tensors from both formats" in out.stdout
    import axonic.io as io_package

    folder = os.path.dirname(io_package.__file__)
    for name in os.listdir(folder):
        if name.endswith(".py"):
            assert "import pickle" not in open(os.path.join(folder, name)).read(), name


@requires_torch
def test_a_big_endian_zip_file_is_swapped(tmp_path):
    src = save(OrderedDict(a=torch.arange(5.0), b=torch.tensor([1, -2], dtype=torch.int64),
                           c=torch.tensor([1.5, -2.0], dtype=torch.bfloat16)), tmp_path / "le.pt",
               False)
    swaps = {"0": "<f4", "1": "<i8", "2": "<u2"}  # storage keys follow first use

    def edit(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        key = name.rsplit("/data/", 1)[-1] if "/data/" in name else None
        return np.frombuffer(data, swaps[key]).byteswap().tobytes() if key in swaps else data

    back = axonic.load(rezip(src, tmp_path / "be.pt", edit))
    assert back["a"].tolist() == [0, 1, 2, 3, 4] and back["b"].tolist() == [1, -2]
    assert back["c"].tolist() == [1.5, -2.0]


class Payload:
    """Unpickling this runs ``touch <marker>`` with an ordinary pickle reader."""

    def __init__(self, marker, fn=os.system):
        self.marker, self.fn = marker, fn

    def __reduce__(self):
        if self.fn is eval:
            return (eval, (f"open({str(self.marker)!r}, 'w').close()",))
        return (self.fn, (f"touch {self.marker}",))


@requires_torch
@FORMATS
@pytest.mark.parametrize("fn", [os.system, eval], ids=["os.system", "builtins.eval"])
def test_code_in_a_file_is_refused_by_name_and_never_runs(tmp_path, legacy, fn):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if legacy:
        save({"w": torch.ones(1), "x": Payload(marker, fn)}, path, True)
    else:
        src = save({"w": torch.ones(1)}, tmp_path / "ok.pt", False)
        rezip(src, path, lambda n, d: pickle.dumps({"x": Payload(marker, fn)}, protocol=4)
              if n.endswith("data.pkl") else d)  # protocol 4: STACK_GLOBAL
    name = "posix.system" if fn is os.system else "(__builtin__|builtins).eval"
    with pytest.raises(ForbiddenGlobalError, match=rf"axonic.load: '.*evil.pt': refuses the "
                                                   rf"global '{name}': only tensor and storage "
                                                   "reconstruction and plain containers"):
        axonic.load(path)
    assert not marker.exists()


@requires_torch
def test_a_user_class_in_a_checkpoint_is_refused_by_name(tmp_path):
    import argparse

    path = save({"args": argparse.Namespace(lr=0.1)}, tmp_path / "a.pt", False)
    with pytest.raises(ForbiddenGlobalError, match="refuses the global 'argparse.Namespace'"):
        axonic.load(path)


@requires_torch
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor", "ignore::DeprecationWarning")
def test_unsupported_tensor_kinds_and_torchscript_are_named(tmp_path):
    q = torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.qint8)
    with pytest.raises(ForbiddenGlobalError, match=r"'.*q.pt': holds quantized tensors "
                                                   r"\(torch.QInt8Storage\)"):
        axonic.load(save({"q": q}, tmp_path / "q.pt", False))
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), tmp_path / "s.pt")
    with pytest.raises(CheckpointError, match=r"'.*s.pt': a TorchScript archive "
                                              r"\(torch.jit.save\); axonic reads torch.save"):
        axonic.load(tmp_path / "s.pt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("a/readme.txt", "hello")
    with pytest.raises(CheckpointError, match=r"'.*other.zip': a zip archive without data.pkl "
                                              r"\(not a torch.save file\)"):
        axonic.load(tmp_path / "other.zip")


@requires_torch
@FORMATS
def test_truncated_files_are_clean_errors_naming_the_file(tmp_path, legacy):
    data = save(sample(), tmp_path / "full.pt", legacy).read_bytes()
    for cut in (len(data) // 3, len(data) - 7):
        (tmp_path / "cut.pt").write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"axonic.load: '.*cut.pt'"):
            axonic.load(tmp_path / "cut.pt")


@requires_torch
def test_tensors_saved_on_cuda_follow_map_location(tmp_path, monkeypatch):
    src = save({"w": torch.ones(2)}, tmp_path / "cpu.pt", False)
    path = rezip(src, tmp_path / "gpu.pt", lambda n, d: d.replace(
        b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0") if n.endswith("data.pkl") else d)
    monkeypatch.setattr("axonic.backend.device.cuda_is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"axonic.load: '.*gpu.pt' holds tensors saved on "
                                           r"'cuda:0' but CUDA is not available; pass "
                                           r"map_location='cpu'"):
        axonic.load(path)
    seen = []
    back = axonic.load(path, map_location=lambda s, loc: seen.append(loc) or s)
    assert seen == ["cuda:0"] and back["w"].tolist() == [1.0, 1.0]
    assert axonic.load(path, map_location={"cuda:0": "cpu"})["w"].device.type == "cpu"
    assert axonic.load(path, map_location="cpu")["w"].device.type == "cpu"


class Ref:
    """A persistent id, as torch's legacy writer emits for storages."""

    def __init__(self, pid):
        self.pid = pid


class Rebuild:
    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args + (False, OrderedDict()))


def legacy_file(obj, storages: dict) -> bytes:
    """A legacy-format file written field by field (magic, protocol, sys info, object,
    storage keys, then each storage as an int64 count and its bytes)."""
    import io
    import struct

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, Ref) else None

    buf = io.BytesIO()
    for head in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001,
                                                "little_endian": True}):
        pickle.dump(head, buf, protocol=2)
    Pickler(buf, protocol=2).dump(obj)
    pickle.dump(list(storages), buf, protocol=2)
    for arr in storages.values():
        buf.write(struct.pack("<q", arr.size) + arr.astype("<f4").tobytes())
    return buf.getvalue()


@requires_torch
def test_legacy_storage_views_share_their_root(tmp_path):
    root = np.arange(10, dtype=np.float32)
    view = Ref(("storage", torch.FloatStorage, "root", "cpu", 10, ("v", 2, 5)))
    whole = Ref(("storage", torch.FloatStorage, "root", "cpu", 10, None))
    (tmp_path / "old.pt").write_bytes(legacy_file(
        {"view": Rebuild(view, 1, (2, 2), (2, 1)), "whole": Rebuild(whole, 0, (10,), (1,))},
        {"root": root}))
    back = axonic.load(tmp_path / "old.pt")
    assert back["view"].tolist() == [[3.0, 4.0], [5.0, 6.0]]
    assert back["whole"].tolist() == root.tolist()
    back["whole"]._data[3] = -1
    assert back["view"].tolist()[0][0] == -1.0
    (tmp_path / "bad.pt").write_bytes(legacy_file(
        {"v": Rebuild(Ref(("storage", torch.FloatStorage, "root", "cpu", 10, ("v", 8, 5))),
                      0, (1,), (1,))}, {"root": root}))
    with pytest.raises(CheckpointError, match=r"'.*bad.pt': a storage view \('v', 8, 5\) is "
                                              "malformed"):
        axonic.load(tmp_path / "bad.pt")


@requires_torch
def test_a_bytearray_of_a_huge_size_is_refused_not_allocated(tmp_path):
    class Big:
        def __reduce__(self):
            return (bytearray, (10**9,))

    (tmp_path / "big.pt").write_bytes(legacy_file({"x": Big()}, {}))
    with pytest.raises(CheckpointError, match="builds a bytearray from something not bytes"):
        axonic.load(tmp_path / "big.pt")

"""axonic.save / axonic.load: exact round trips through safetensors files that the official
readers open, atomic writes, clear errors."""

import os

import numpy as np
import pytest

import axonic
from axonic import nn
from tests.conftest import requires_torch, torch

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.bool_]


def _sample():
    rng = np.random.default_rng(0)
    sd = {}
    for dt in DTYPES:
        name = np.dtype(dt).name
        if dt is np.bool_:
            sd[name] = rng.random((3, 4)) > 0.5
        elif np.issubdtype(dt, np.floating):
            a = rng.standard_normal((3, 4)).astype(dt)
            a[0, :3] = [np.inf, -np.inf, np.nan]
            a[1, 0] = -0.0
            sd[name] = a
        else:
            info = np.iinfo(dt)
            sd[name] = np.array([[info.min, info.max, 0, 1]] * 3, dtype=dt)
    sd["scalar"] = np.array(2.5, np.float32)
    sd["numpy_scalar"] = np.int64(-7)
    sd["empty"] = np.zeros((0, 5), np.float32)
    sd["strided"] = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]  # non-contiguous view
    return sd


def _bits(a):
    a = np.ascontiguousarray(np.asarray(a))
    return a.dtype, a.shape, a.tobytes()


def test_round_trip_is_bit_identical_for_every_dtype(tmp_path):
    sd = _sample()
    path = tmp_path / "all.safetensors"
    axonic.save({k: (axonic.tensor(v) if i % 2 else v) for i, (k, v) in enumerate(sd.items())},
                path)
    back = axonic.load(path)
    assert list(back) == list(sd)  # the saved order, not the file's internal order
    for k, v in sd.items():
        assert isinstance(back[k], axonic.Tensor)
        assert _bits(back[k].numpy()) == _bits(v), k


def test_file_is_read_by_the_official_safetensors_readers(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    sd = _sample()
    path = str(tmp_path / "w.safetensors")
    axonic.save(sd, path, metadata={"epoch": "3"})
    loaded = load_file(path)
    with safe_open(path, framework="numpy") as f:
        assert set(f.keys()) == set(sd)
        assert f.metadata()["epoch"] == "3"
        np.testing.assert_array_equal(f.get_tensor("float32"), sd["float32"])
    for k, v in sd.items():
        assert _bits(loaded[k]) == _bits(v), k


@requires_torch
def test_file_is_read_by_safetensors_torch(tmp_path):
    from safetensors.torch import load_file

    sd = _sample()
    path = str(tmp_path / "w.safetensors")
    axonic.save(sd, path)
    loaded = load_file(path)
    for k, v in sd.items():
        assert _bits(loaded[k].numpy()) == _bits(v), k


@requires_torch
def test_torch_written_file_loads_into_axonic(tmp_path):
    from safetensors.torch import save_file

    path = str(tmp_path / "t.safetensors")
    w = torch.randn(3, 4)
    save_file({"weight": w, "mask": torch.tensor([True, False])}, path)
    back = axonic.load(path)
    np.testing.assert_array_equal(back["weight"].numpy(), w.numpy())
    assert back["mask"].tolist() == [True, False]


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(axonic.randn(3, 2))
        self.b = nn.Parameter(axonic.zeros(2))
        self.register_buffer("count", axonic.tensor(0))

    def forward(self, x):
        return x @ self.w + self.b


def test_module_state_dict_round_trip(tmp_path):
    net = _Net()
    net.count.fill_(5)
    path = tmp_path / "net.safetensors"
    axonic.save(net.state_dict(), path)
    other = _Net()
    other.load_state_dict(axonic.load(path))
    for (k, a), (_, b) in zip(net.state_dict().items(), other.state_dict().items()):
        assert _bits(a.numpy()) == _bits(b.numpy()), k
    x = axonic.randn(4, 3)
    np.testing.assert_array_equal(net(x).detach().numpy(), other(x).detach().numpy())


def test_save_refuses_what_a_checkpoint_cannot_hold(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=r"axonic.save: cannot store the "
                                        r"builtin_function_or_method at "
                                        r"obj\['opt'\]\['fn'\]; a checkpoint holds dicts, "
                                        r"lists and tuples of tensors"):
        axonic.save({"w": axonic.ones(1), "opt": {"fn": print}}, path)
    with pytest.raises(TypeError, match=r"the key \(1, 2\) at obj is a tuple; keys must be "
                                        r"str, int, float, bool or None"):
        axonic.save({(1, 2): axonic.ones(1)}, path)
    with pytest.raises(TypeError, match=r"cannot store the set at obj\[0\]"):
        axonic.save([{1, 2}], path)
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"the checkpoint contains itself at obj\['a'\]\[0\]"):
        axonic.save(loop, path)
    deep = [1]
    for _ in range(150):
        deep = [deep]
    with pytest.raises(ValueError, match="nests deeper than 100 containers"):
        axonic.save(deep, path)
    with pytest.raises(TypeError, match="axonic.save: pickle_module must be None"):
        axonic.save({"w": axonic.ones(1)}, path, pickle_module=object())
    assert not path.exists() and os.listdir(tmp_path) == []


def test_interrupted_save_keeps_the_existing_file(tmp_path, monkeypatch):
    import safetensors.numpy

    path = tmp_path / "ckpt.safetensors"
    axonic.save({"w": axonic.ones(4)}, path)
    before = path.read_bytes()

    real_replace = os.replace

    def crash(*args):
        raise KeyboardInterrupt  # the process is stopped right before the rename

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        axonic.save({"w": axonic.zeros(1000)}, path)
    monkeypatch.setattr(os, "replace", real_replace)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind

    def fail(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(safetensors.numpy, "save", fail)
    with pytest.raises(MemoryError):
        axonic.save({"w": axonic.zeros(3)}, path)
    assert path.read_bytes() == before


def test_truncated_or_corrupted_files_give_clear_errors(tmp_path):
    path = tmp_path / "m.safetensors"
    axonic.save({"w": axonic.arange(100.0), "b": axonic.ones(3)}, path)
    data = path.read_bytes()

    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(data[: len(data) - 50])
    with pytest.raises(ValueError, match=r"axonic.load: '.*truncated.safetensors' is not a "
                                         r"readable safetensors file \(truncated or corrupted"):
        axonic.load(bad)

    flipped = bytearray(data)
    flipped[-20] ^= 0xFF  # one byte inside the tensor data
    bad = tmp_path / "flipped.safetensors"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"'.*flipped.safetensors' is corrupted: the tensors do "
                                         r"not match the checksum"):
        axonic.load(bad)

    bad = tmp_path / "garbage.safetensors"
    bad.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="garbage.safetensors' is not a readable safetensors"):
        axonic.load(bad)

    with pytest.raises(FileNotFoundError, match=r"axonic.load: no such file: '.*missing"):
        axonic.load(tmp_path / "missing.safetensors")


@requires_torch
def test_unsupported_dtype_and_missing_folder_are_named(tmp_path):
    from safetensors.torch import save_file

    path = str(tmp_path / "f8.safetensors")
    save_file({"b": torch.ones(2), "w": torch.ones(2, dtype=torch.float8_e4m3fn)}, path)
    for read in (axonic.load, lambda p: axonic.io.safetensors.loads(open(p, "rb").read(), p)):
        with pytest.raises(TypeError, match=r"axonic.load: tensor 'w' in '.*f8.safetensors' has "
                                            r"dtype F8_E4M3, which NumPy \(and so axonic\) "
                                            r"cannot hold"):
            read(path)
    with pytest.raises(FileNotFoundError, match=r"axonic.save: folder '.*nowhere' does not "
                                                r"exist \(saving '.*w.safetensors'\)"):
        axonic.save({"w": axonic.ones(1)}, tmp_path / "nowhere" / "w.safetensors")


@requires_torch
def test_bfloat16_files_written_by_torch_load_bit_for_bit(tmp_path):
    from safetensors.torch import save, save_file

    g = torch.Generator().manual_seed(0)
    sd = {"w": torch.randn(3, 5, generator=g).bfloat16(), "b": torch.randn(5).double(),
          "n": torch.tensor([1, 2], dtype=torch.int64), "s": torch.tensor(2.5).bfloat16()}
    path = tmp_path / "bf16.safetensors"
    save_file(sd, path)
    for got in (axonic.load(path), axonic.io.safetensors.loads(save(sd))):
        assert sorted(got) == sorted(sd)
        for k, t in sd.items():
            mine = got[k].numpy() if isinstance(got[k], axonic.Tensor) else got[k]  # loads: arrays
            assert mine.shape == tuple(t.shape), k
            if t.dtype == torch.bfloat16:
                assert mine.dtype == axonic.bfloat16
                assert mine.view(np.uint16).tobytes() == t.view(torch.int16).numpy().tobytes()
                assert np.array_equal(mine.astype(np.float32), t.float().numpy())
            else:
                assert mine.dtype == t.numpy().dtype and np.array_equal(mine, t.numpy()), k


def test_bfloat16_tensors_save_and_load_with_their_checksum(tmp_path):
    sd = {"w": axonic.linspace(-3, 3, 12).reshape(3, 4).bfloat16(), "b": axonic.ones(4)}
    path = tmp_path / "m.safetensors"
    axonic.save(sd, path)
    got = axonic.load(path)
    assert got["w"].dtype == axonic.bfloat16 and got["b"].dtype == axonic.float32
    assert got["w"].numpy().tobytes() == sd["w"].numpy().tobytes()
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 1  # a bit of w flipped
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="do not match the checksum"):
        axonic.load(path)
    model = nn.Linear(4, 3)
    model.load_state_dict({"weight": sd["w"].float().bfloat16(), "bias": axonic.zeros(3)})
    assert model.weight.dtype == axonic.float32  # copied into the float32 parameter
    assert np.array_equal(model.weight.detach().numpy(), sd["w"].float().numpy())


@requires_torch
def test_bfloat16_without_ml_dtypes_names_the_extra(tmp_path, monkeypatch):
    from safetensors.torch import save_file

    import axonic.backend.dtypes as dtypes

    path = tmp_path / "bf16.safetensors"
    save_file({"w": torch.ones(2, dtype=torch.bfloat16)}, str(path))

    def missing():
        raise ImportError("bfloat16 needs ml_dtypes: pip install 'axonic[bf16]'")
    monkeypatch.setattr(dtypes, "bfloat16_dtype", missing)
    with pytest.raises(ImportError, match=r"axonic.load: tensor 'w' in '.*bf16.safetensors' is "
                                          r"bfloat16, which needs ml_dtypes: pip install "
                                          r"'axonic\[bf16\]'"):
        axonic.load(path)


def test_load_moves_to_a_device(tmp_path):
    path = tmp_path / "d.safetensors"
    axonic.save({"w": axonic.ones(2)}, path)
    t = axonic.load(path, device="cpu")["w"]
    assert t.device.type == "cpu" and t.tolist() == [1.0, 1.0]


def test_no_pickle_in_the_io_package():
    import axonic.io.safetensors as mod

    src = open(mod.__file__).read()
    assert "pickle" not in src.replace("unpickled", "")

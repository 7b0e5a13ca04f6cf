"""axonic.save / axonic.load of nested checkpoints: torch.save/torch.load's signatures,
exact round trips, file objects, map_location, and no pickle anywhere in the path."""

import io
import math
import sys
from collections import OrderedDict

import numpy as np
import pytest

import axonic
from axonic import nn
from axonic.io import CheckpointError
from axonic.io.checkpoint import _is_flat


def same(a, b, path="obj"):
    """Recursive equality of checkpoint structures: same types, same keys in the same order,
    bit-identical tensors (dtype, shape, bytes)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, axonic.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.numpy().tobytes() == b.numpy().tobytes(), path
        assert a.requires_grad == b.requires_grad, path
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), path
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def trained():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    opt = axonic.optim.Adam(model.parameters(), lr=1e-2)
    x, y = axonic.randn(16, 4), axonic.randint(0, 2, (16,))
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model, opt, (x, y)


def checkpoint(model, opt):
    return {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "iteration": 3,
        "best_loss": 0.125, "config": {"n_layer": 2, "name": "mlp", "dropout": None,
                                       "bias": True, "betas": (0.9, 0.99), "sizes": [4, 8]},
        "history": [1.5, float("inf"), float("nan"), -0.0], "rng": np.arange(5, dtype=np.uint8),
        "seed": np.int64(7), "empty": {}, "huge": 2**70, 3: "int key", None: [()],
    }


def test_nested_checkpoint_round_trips_to_an_equal_structure(tmp_path):
    model, opt, _ = trained()
    ckpt = checkpoint(model, opt)
    axonic.save(ckpt, tmp_path / "ckpt.pt")
    back = axonic.load(tmp_path / "ckpt.pt")
    same(ckpt, back)
    assert isinstance(back["model"], OrderedDict) and type(back["optimizer"]) is dict
    assert type(back["seed"]) is np.int64 and back["seed"] == 7


def test_training_resumes_from_a_loaded_checkpoint_exactly(tmp_path):
    model, opt, (x, y) = trained()
    axonic.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter": 3},
                tmp_path / "ckpt.pt")
    ckpt = axonic.load(tmp_path / "ckpt.pt")
    model2 = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    model2.load_state_dict(ckpt["model"])
    opt2 = axonic.optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(ckpt["optimizer"])
    assert opt2.param_groups[0]["lr"] == 1e-2
    for m, o in ((model, opt), (model2, opt2)):  # one more step on each: identical results
        o.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_parameters_requires_grad_and_shared_tensors_survive(tmp_path):
    w = nn.Parameter(axonic.randn(3))
    g = axonic.ones(2).requires_grad_()
    plain = axonic.zeros(2)
    axonic.save({"w": w, "again": [w, plain, plain], "g": g}, tmp_path / "p.pt")
    back = axonic.load(tmp_path / "p.pt")
    assert isinstance(back["w"], nn.Parameter) and back["w"].requires_grad
    assert back["again"][0] is back["w"] and back["again"][1] is back["again"][2]
    assert back["g"].requires_grad and not back["again"][1].requires_grad
    axonic.save({"g": g}, tmp_path / "flat.pt")  # a flat dict keeps requires_grad too
    assert axonic.load(tmp_path / "flat.pt")["g"].requires_grad


def test_file_objects_work_both_ways():
    buf = io.BytesIO()
    axonic.save({"a": [axonic.arange(3.0)], "b": "x"}, buf)
    buf.seek(0)
    back = axonic.load(buf)
    assert back["b"] == "x" and back["a"][0].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(TypeError, match=r"axonic.load: the file object returned str; open it "
                                        r"in binary mode \('rb'\)"):
        axonic.load(io.StringIO("text"))
    with pytest.raises(TypeError, match="axonic.load: expected a path or a binary file object; "
                                        "got int"):
        axonic.load(3)


def test_flat_state_dicts_keep_the_plain_safetensors_layout(tmp_path):
    from safetensors.numpy import load_file

    sd = OrderedDict(w=axonic.ones(2, 2), b=axonic.zeros(2))
    axonic.save(sd, tmp_path / "flat.safetensors")
    assert sorted(load_file(tmp_path / "flat.safetensors")) == ["b", "w"]
    back = axonic.load(tmp_path / "flat.safetensors")
    same(sd, back)


def test_nested_tensors_are_named_by_their_path_in_the_file(tmp_path):
    from safetensors import safe_open

    axonic.save({"model": {"fc.weight": axonic.ones(1)}, "opt": {"state": {0: {
        "exp_avg": axonic.zeros(1)}}}, "a/b": [axonic.ones(1)]}, tmp_path / "n.safetensors")
    with safe_open(tmp_path / "n.safetensors", framework="numpy") as f:
        assert sorted(f.keys()) == ["a~1b/0", "model/fc.weight", "opt/state/0/exp_avg"]
        assert "axonic.tree" in f.metadata()


def test_map_location_forms():
    buf = io.BytesIO()
    axonic.save({"w": [axonic.ones(2)]}, buf)
    seen = []

    def fn(storage, location):
        seen.append((storage.shape, location))
        return storage

    for loc in ("cpu", axonic.device("cpu"), {"cpu": "cpu"}, fn, None):
        buf.seek(0)
        assert axonic.load(buf, map_location=loc)["w"][0].device.type == "cpu"
    assert seen == [((2,), "cpu")]
    buf.seek(0)
    assert axonic.load(buf, device="cpu")["w"][0].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="axonic.load: map_location must be None, a str, a "
                                        "device, a dict or a callable; got int"):
        buf.seek(0)
        axonic.load(buf, map_location=3)
    with pytest.raises(TypeError, match="axonic.load: map_location returned a int; expected a "
                                        "Tensor, a device, a str or None"):
        buf.seek(0)
        axonic.load(buf, map_location=lambda s, loc: 1)
    with pytest.raises(TypeError, match="axonic.load: pass map_location or device, not both"):
        axonic.load(buf, map_location="cpu", device="cpu")
    with pytest.raises(TypeError, match="axonic.load: pickle_module must be None"):
        axonic.load(buf, pickle_module=object())


def test_a_tensor_saved_on_cuda_asks_for_map_location_without_cuda(tmp_path, monkeypatch):
    from axonic.io import checkpoint

    node = checkpoint._Encoder.encode
    monkeypatch.setattr(checkpoint._Encoder, "encode", lambda self, obj, path, active: (
        {"tensor": self.array(obj, obj, path), "device": "cuda:0"}
        if isinstance(obj, axonic.Tensor) else node(self, obj, path, active)))
    axonic.save({"w": [axonic.ones(1)]}, tmp_path / "gpu.pt")
    monkeypatch.undo()
    monkeypatch.setattr("axonic.backend.device.cuda_is_available", lambda: False)
    with pytest.raises(RuntimeError, match=r"axonic.load: '.*gpu.pt' holds tensors saved on "
                                           r"'cuda:0' but CUDA is not available; pass "
                                           r"map_location='cpu'"):
        axonic.load(tmp_path / "gpu.pt")
    assert axonic.load(tmp_path / "gpu.pt", map_location={"cuda:0": "cpu"})["w"][0].item() == 1


def test_weights_only_is_accepted_and_changes_nothing(tmp_path):
    axonic.save({"a": [1, axonic.ones(1)]}, tmp_path / "c.pt")
    for wo in (True, False, None):
        assert axonic.load(tmp_path / "c.pt", weights_only=wo)["a"][0] == 1


def test_a_corrupted_tree_is_a_clean_error(tmp_path):
    import json

    from safetensors.numpy import save_file

    from axonic.io.safetensors import _digest

    def write(tree):
        arrays = {"w": np.zeros(1, np.float32)}
        meta = {"axonic.tree": json.dumps(tree), "axonic.keys": '["w"]',
                "axonic.sha256": _digest(arrays, json.dumps(tree))}
        save_file(arrays, str(tmp_path / "t.pt"), metadata=meta)
        return tmp_path / "t.pt"

    for tree, why in [({"tensor": "nope"}, "tensor 'nope' is not one of the file's tensors"),
                      ({"set": []}, "unknown node kind 'set'"),
                      ({"dict": [[{"list": []}, 1]]}, "a dict key is a list"),
                      ([1], "a node is a list"), ({"list": 3}, "a 'list' node holds a int")]:
        with pytest.raises(CheckpointError, match=r"axonic.load: '.*t.pt' has a corrupted "
                                                  r"checkpoint tree: " + why):
            axonic.load(write(tree))


def test_the_tree_is_covered_by_the_checksum(tmp_path):
    axonic.save({"a": [1, axonic.ones(1)]}, tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    assert data.count(b'\\"list\\": [1,') == 1  # the tree is JSON text inside the header
    data = data.replace(b'\\"list\\": [1,', b'\\"list\\": [2,')
    (tmp_path / "c.pt").write_bytes(data)
    with pytest.raises(ValueError, match="is corrupted: the tensors do not match the checksum"):
        axonic.load(tmp_path / "c.pt")


def test_no_pickle_module_is_used_by_save_and_load(tmp_path, monkeypatch):
    model, opt, _ = trained()
    for name in ("pickle", "_pickle"):
        monkeypatch.setitem(sys.modules, name, None)  # any import of pickle now fails
    axonic.save(checkpoint(model, opt), tmp_path / "c.pt")
    axonic.load(tmp_path / "c.pt")
    import axonic.io.checkpoint as mod

    assert "import pickle" not in open(mod.__file__).read()


def _tensors():
    from hypothesis import strategies as st

    shapes = st.lists(st.integers(0, 3), max_size=3)
    dtypes = st.sampled_from(["float32", "float64", "int64", "bool", "float16", "uint8"])
    return st.builds(lambda s, d, t: (axonic.tensor(np.ones(s, d)) if t
                                      else np.arange(int(np.prod(s))).astype(d).reshape(s)),
                     shapes, dtypes, st.booleans())


def test_a_header_length_that_looks_like_a_pickle_is_still_safetensors():
    for n in range(1200):  # pad the header until its length's bytes read 0x80 0x02
        buf = io.BytesIO()
        axonic.save({"w": [axonic.ones(1)]}, buf, metadata={"pad": "x" * n})
        if buf.getvalue()[:2] == b"\x80\x02":
            break
    assert buf.getvalue()[:2] == b"\x80\x02"
    buf.seek(0)
    assert axonic.load(buf)["w"][0].tolist() == [1.0]


def test_random_nested_checkpoints_round_trip():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    scalar = (st.none() | st.booleans() | st.integers(-2**80, 2**80) | st.text(max_size=8)
              | st.floats(allow_nan=True, allow_infinity=True) | _tensors())
    keys = st.none() | st.booleans() | st.integers() | st.text(max_size=6) | st.floats(
        allow_nan=False)
    tree = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3)
                        | st.tuples(inner, inner) | st.dictionaries(keys, inner, max_size=3)
                        | st.dictionaries(st.text(max_size=4), inner, max_size=3).map(
                            OrderedDict), max_leaves=12)

    @settings(max_examples=80, deadline=None)
    @given(tree)
    def check(obj):
        buf = io.BytesIO()
        axonic.save(obj, buf)
        buf.seek(0)
        want = obj
        if _is_flat(obj):  # a flat state dict loads as before: an OrderedDict of Tensors
            want = OrderedDict((k, axonic.tensor(v) if isinstance(v, np.ndarray) else v)
                               for k, v in obj.items())
        same(want, axonic.load(buf))

    check()

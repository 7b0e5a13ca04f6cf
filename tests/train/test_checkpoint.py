"""Checkpoint directories: atomic writes, last/best links, validation before loading."""

import json
import os

import numpy as np
import pytest

from axonic.train.checkpoint import (
    CheckpointDir,
    CheckpointError,
    _manifest_digest,
    read_checkpoint,
    resolve_checkpoint,
    write_checkpoint,
)


def sample(tmp_path, name="c"):
    arrays = {"model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3),
                        "step": np.array(3.0, np.float32)},
              "optimizer": {}}
    return write_checkpoint(tmp_path / name, arrays, {"epoch": 2, "history": {"loss": [0.5]}})


def test_round_trip_keeps_values_shapes_and_dtypes(tmp_path):
    path = sample(tmp_path)
    arrays, state = read_checkpoint(path)
    assert arrays["model"]["w"].dtype == np.float32
    assert np.array_equal(arrays["model"]["w"], np.arange(6).reshape(2, 3))
    assert arrays["model"]["step"].shape == ()
    assert arrays["optimizer"] == {}
    assert state == {"epoch": 2, "history": {"loss": [0.5]}}
    assert sorted(os.listdir(path)) == ["manifest.json", "model.safetensors",
                                        "optimizer.safetensors", "state.json"]
    assert [p for p in os.listdir(tmp_path) if ".tmp-" in p] == []


def test_refuses_to_overwrite(tmp_path):
    sample(tmp_path)
    with pytest.raises(CheckpointError, match="already exists"):
        sample(tmp_path)


def test_a_failed_write_leaves_no_directory(tmp_path):
    with pytest.raises(TypeError):
        write_checkpoint(tmp_path / "c", {"model": {}}, {"f": object()})
    assert os.listdir(tmp_path) == []


def corrupt(path, name, how):
    f = path / name
    data = f.read_bytes()
    if how == "truncate":
        f.write_bytes(data[: len(data) // 2])
    elif how == "flip":
        b = bytearray(data)
        b[len(b) // 2] ^= 0x01
        f.write_bytes(bytes(b))
    elif how == "delete":
        f.unlink()


@pytest.mark.parametrize("name, how, match", [
    ("model.safetensors", "truncate", "model.safetensors has .* bytes, the manifest says"),
    ("model.safetensors", "flip", "model.safetensors does not match its SHA256"),
    ("state.json", "flip", "state.json does not match its SHA256"),
    ("optimizer.safetensors", "delete", "optimizer.safetensors is missing"),
    ("manifest.json", "truncate", "manifest.json is not valid JSON"),
    ("manifest.json", "delete", "has no manifest.json"),
])
def test_corrupted_or_truncated_checkpoints_are_refused(tmp_path, name, how, match):
    path = sample(tmp_path)
    corrupt(path, name, how)
    with pytest.raises(CheckpointError, match=match):
        read_checkpoint(path)


def rewrite_manifest(path):
    import hashlib

    m = json.loads((path / "manifest.json").read_text())
    for name in m["files"]:
        data = (path / name).read_bytes()
        m["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    m["sha256"] = _manifest_digest(m)  # a forger who also fixes the manifest's own hash
    (path / "manifest.json").write_text(json.dumps(m))


def test_a_bad_safetensors_header_is_refused_even_with_a_matching_manifest(tmp_path):
    path = sample(tmp_path)
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes((10**6).to_bytes(8, "little") + data[8:])
    rewrite_manifest(path)
    with pytest.raises(CheckpointError, match="a header of 1000000 bytes in a .*-byte file"):
        read_checkpoint(path)


def test_bad_json_is_refused_even_with_a_matching_manifest(tmp_path):
    path = sample(tmp_path)
    (path / "state.json").write_text('{"epoch": 2')
    rewrite_manifest(path)
    with pytest.raises(CheckpointError, match="state.json is not valid JSON"):
        read_checkpoint(path)


def test_a_foreign_manifest_is_refused(tmp_path):
    path = sample(tmp_path)
    (path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CheckpointError, match="is not an axonic-checkpoint manifest"):
        read_checkpoint(path)


def test_last_and_best_links_flip_and_old_checkpoints_are_removed(tmp_path):
    d = CheckpointDir(tmp_path)
    arrays = {"model": {"w": np.zeros(2, np.float32)}}
    first = d.save(arrays, {"epoch": 1, "step": 10}, names=("last", "best"))
    second = d.save(arrays, {"epoch": 2, "step": 20}, names=("last",))
    assert (tmp_path / "best").resolve() == first.resolve()
    assert (tmp_path / "last").resolve() == second.resolve()
    d.save(arrays, {"epoch": 3, "step": 30}, names=("last", "best"))
    assert sorted(p.name for p in tmp_path.iterdir() if not p.is_symlink()) == [
        os.readlink(tmp_path / "last")]
    assert read_checkpoint(resolve_checkpoint(tmp_path))[1]["step"] == 30


def test_resolve_names_what_it_needs(tmp_path):
    with pytest.raises(CheckpointError, match="neither a checkpoint .* nor a folder with a "
                                              "'last' checkpoint"):
        resolve_checkpoint(tmp_path)


def test_trainer_save_checkpoint_and_load_weights(tmp_path):
    from tests.train import tiny

    t = tiny.trainer()
    t.fit(tiny.data(), epochs=1, batch_size=8, verbose=0)
    t.save_checkpoint(tmp_path / "c")
    other = tiny.trainer(m=tiny.model(seed=5))
    other.load_weights(tmp_path / "c")
    for k, v in t.model.state_dict().items():
        assert np.array_equal(other.model.state_dict()[k].numpy(), v.numpy())
    _, state = read_checkpoint(tmp_path / "c")
    assert state["epoch"] == 1 and state["step"] == 6 and state["loader"]["seed"] == 3

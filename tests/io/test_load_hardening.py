"""Issue 12 findings on ``axonic.load``: every bad file is one ValueError naming it, a FIFO
never blocks, and a file's size is checked before it is read."""

import json
import os
import struct
import threading

import numpy as np
import pytest

import axonic


def saved(tmp_path):
    path = tmp_path / "w.safetensors"
    axonic.save({"a": np.zeros(3, np.float32), "b": np.ones(2, np.float32)}, path)
    return path


def rewrite_header(path, edit):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    edit(header)
    new = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(new)) + new + data[8 + n:])


@pytest.mark.parametrize("keys", ['{"a": 1}', "1.5", '["a", 2]', "[[[[", '"ab"'])
def test_metadata_keys_not_a_json_list_is_a_clean_error(tmp_path, keys):
    path = saved(tmp_path)
    rewrite_header(path, lambda h: h["__metadata__"].__setitem__("axonic.keys", keys))
    with pytest.raises(ValueError, match="is corrupted: its key list does not match"):
        axonic.load(path)


def test_metadata_that_is_not_str_to_str_is_a_clean_error(tmp_path):
    path = saved(tmp_path)
    rewrite_header(path, lambda h: h.__setitem__("__metadata__", {"axonic.keys": [1]}))
    with pytest.raises(ValueError, match="__metadata__ is not a mapping of str -> str"):
        axonic.load(path)


def test_load_on_a_fifo_does_not_block(tmp_path):
    fifo = tmp_path / "w.safetensors"
    os.mkfifo(fifo)
    result = []

    def load():
        try:
            axonic.load(fifo)
        except ValueError as e:
            result.append(str(e))
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "axonic.load blocked on a FIFO"
    assert "is not a regular file" in result[0]


def test_load_of_a_folder_is_a_clean_error(tmp_path):
    with pytest.raises(ValueError, match="is not a regular file"):
        axonic.load(tmp_path)


def test_a_header_longer_than_the_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", 2**40) + b"{}")
    with pytest.raises(ValueError, match="a header of 1099511627776 bytes in a 10-byte file"):
        axonic.load(path)


def test_a_huge_sparse_file_is_checked_without_reading_it(tmp_path):
    import resource

    path = saved(tmp_path)
    with open(path, "r+b") as f:
        f.truncate(2**33)  # 8 GiB claimed, the body does not match the header
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        axonic.load(path)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 64 * 1024  # far from the 8 GiB a whole read would need


def test_a_link_to_a_missing_file_is_named(tmp_path):
    os.symlink(tmp_path / "gone.safetensors", tmp_path / "w.safetensors")
    with pytest.raises(FileNotFoundError, match="is a link to a missing file"):
        axonic.load(tmp_path / "w.safetensors")

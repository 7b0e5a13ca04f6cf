"""Seeded mutations for the load-path fuzzers (tests/fuzz and bench/fuzz_load_paths.py):
bytes (bit flips, truncation, junk), JSON trees (deleted keys, wrong types, deep nesting,
paths out of the folder) and files replaced by links, FIFOs or folders."""

from __future__ import annotations

import json
import math
import os
import struct

ESCAPES = ["../../outside.safetensors", "/etc/hostname", "../manifest.json", "sub/x.json",
           ".hidden.safetensors", "..", "model.safetensors/.."]


def mutate_bytes(rng, data: bytes) -> bytes:
    kind = rng.integers(5)
    b = bytearray(data)
    if kind == 0 and b:  # flip 1-8 bits
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(len(b)))
            b[i] ^= 1 << int(rng.integers(8))
    elif kind == 1:  # truncate
        b = b[:int(rng.integers(len(b) + 1))]
    elif kind == 2:  # append junk
        b += bytes(rng.integers(0, 256, int(rng.integers(1, 64)), dtype="uint8"))
    elif kind == 3 and b:  # overwrite a run of bytes
        i = int(rng.integers(len(b)))
        n = int(rng.integers(1, 16))
        b[i:i + n] = bytes(rng.integers(0, 256, n, dtype="uint8"))
    else:  # a random 8-byte header length
        b[:8] = struct.pack("<Q", int(rng.choice([0, 1, 2**20, 2**40, 2**63, len(b)])))
    return bytes(b)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:8]):
            yield from _paths(v, prefix + (i,))


def _deep(n: int) -> str:  # a marker: nested lists too deep for json.dumps are spliced in
    return f"<deep {n}>"


def _splice(text: str) -> str:
    import re

    return re.sub(r'"<deep (\d+)>"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)


def dumps(obj) -> bytes:
    """JSON text of a mutated tree (deep-nesting markers expanded)."""
    return _splice(json.dumps(obj)).encode()


def random_value(rng, toml: bool = False):
    choices = [1.5, -1, 0, 2**31, 2**62, "x", "", True, [], {}, [1, "a"], {"a": 1},
               math.inf, -math.inf, math.nan, _deep(int(rng.choice([70, 3000]))),
               ESCAPES[int(rng.integers(len(ESCAPES)))], "cuda", "r2"]
    if not toml:
        choices += [None, 2**70]
    return choices[int(rng.integers(len(choices)))]


def mutate_json(rng, obj, toml: bool = False):
    """A copy of ``obj`` with one random edit somewhere in its tree."""
    obj = json.loads(json.dumps(obj))
    paths = list(_paths(obj))
    path = paths[int(rng.integers(len(paths)))]
    if not path:
        return random_value(rng, toml) if rng.random() < 0.5 else obj
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    kind = rng.integers(4)
    if kind == 0 and isinstance(parent, dict):
        del parent[key]
    elif kind == 1 and isinstance(parent, dict):  # rename the key (e.g. a file entry)
        parent[ESCAPES[int(rng.integers(len(ESCAPES)))]] = parent.pop(key)
    else:
        parent[key] = random_value(rng, toml)
    return obj


def to_toml(cfg: dict) -> str:
    """``cfg`` as TOML, every top-level key as ``"key" = <inline value>``."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") \
                if math.isinf(v) else repr(v)
        if isinstance(v, int | str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
    if not isinstance(cfg, dict):
        return _splice(f"value = {value(cfg)}\n")
    return _splice("".join(f"{json.dumps(k)} = {value(v)}\n" for k, v in cfg.items()))


def replace_file(rng, path, outside) -> str:
    """Replace ``path`` by a symlink out of the folder, a FIFO, a folder or nothing."""
    os.unlink(path)
    kind = int(rng.integers(4))
    if kind == 0:
        os.symlink(outside, path)
        return "symlink"
    if kind == 1:
        os.mkfifo(path)
        return "fifo"
    if kind == 2:
        os.mkdir(path)
        return "folder"
    return "deleted"

"""Write a run configuration back as TOML (``tomllib`` only reads), so that every config
a search finds is a file ``axonic train`` runs.

>>> print(dumps({"name": "x", "seed": 0, "data": {"dataset": "iris", "splits": [0.7, 0.3, 0]},
...              "model": {"layers": [{"type": "Linear", "out_features": 3}]}}))
name = "x"
seed = 0
<BLANKLINE>
[data]
dataset = "iris"
splits = [0.7, 0.3, 0]
<BLANKLINE>
[model]
layers = [
  { type = "Linear", out_features = 3 },
]
<BLANKLINE>
"""

from __future__ import annotations

import json
import math
import re

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = [f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"toml: cannot write {v!r} ({type(v).__name__})")


def dumps(cfg: dict) -> str:
    """TOML text for ``cfg``: scalars first, then one ``[table]`` per dict; ``None`` values
    are left out (they mean "the default"); lists of tables are one inline table a line."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in cfg.items()
             if v is not None and not isinstance(v, dict)]
    for name, table in cfg.items():
        if not isinstance(table, dict):
            continue
        lines += ["", f"[{_key(name)}]"]
        for k, v in table.items():
            if v is None:
                continue
            if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                lines.append(f"{_key(k)} = [")
                lines += [f"  {_value(x)}," for x in v]
                lines.append("]")
            else:
                lines.append(f"{_key(k)} = {_value(v)}")
    return "\n".join(lines) + "\n"

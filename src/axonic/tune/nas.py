"""Architecture search: a ``[tune.architecture]`` table describes blocks whose number,
widths, kernel sizes, activation, normalisation, pooling and dropout are searched with
Optuna's define-by-run API (a block's parameters exist only when the block does). The
blocks go in front of the config's ``model.layers``, which hold the head; the widths
between layers are inferred.

>>> import optuna
>>> arch = parse_architecture({"kind": "mlp", "blocks": {"low": 1, "high": 2},
...                            "width": {"choices": [8, 16]}, "activation": "ReLU"})
>>> trial = optuna.trial.FixedTrial({"blocks": 2, "block0.width": 8, "block1.width": 16})
>>> [layer["type"] for layer in suggest_layers(trial, arch, (4,))]
['Linear', 'ReLU', 'Linear', 'ReLU']
"""

from __future__ import annotations

from axonic.cli.config import ConfigError, _closest
from axonic.tune.space import distribution, is_distribution, suggest

NORMS = {"cnn": {"none": None, "batch": "BatchNorm2d"},
         "mlp": {"none": None, "batch": "BatchNorm1d", "layer": "LayerNorm"}}
KEYS = {
    "kind": "'cnn' (Conv2d blocks on images) or 'mlp' (Linear blocks)",
    "blocks": "the number of blocks",
    "width": "each block's out_channels / out_features (searched per block)",
    "kernel_size": "each Conv2d block's kernel size (cnn; searched per block)",
    "pool": "MaxPool2d(2) after a Conv2d block, while the image is at least 2x2 (cnn)",
    "activation": "an activation layer type (ReLU, GELU, Tanh, ...)",
    "norm": "'none', 'batch' or 'layer' (mlp)",
    "dropout": "dropout probability after each block (0 leaves Dropout out)",
    "residual": "each block as x + block(x) (Residual / Residual2d; a width change adds a "
                "projection on the skip path)",
}
DEFAULTS = {"blocks": 2, "width": 32, "kernel_size": 3, "pool": False, "activation": "ReLU",
            "norm": "none", "dropout": 0.0, "residual": False}


def parse_architecture(table: dict) -> dict:
    """Check the table: each key is a fixed value or a distribution; returns
    ``{key: value or Optuna distribution}`` with defaults and ``kind``."""
    if not isinstance(table, dict):
        raise ConfigError(f"tune.architecture: expected a table, got {table!r}")
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"tune.architecture: unknown key {key!r}.{_closest(key, KEYS)} "
                              f"Allowed keys: {', '.join(KEYS)}")
    kind = table.get("kind", "mlp")
    if kind not in NORMS:
        raise ConfigError(f"tune.architecture.kind: expected 'cnn' or 'mlp', got {kind!r}")
    out = {"kind": kind}
    for key, default in DEFAULTS.items():
        value = table.get(key, default)
        out[key] = distribution(f"architecture.{key}", value) if isinstance(value, dict) \
            else value
        _check_values(kind, key, out[key])
    return out


def _values(v) -> list:
    if hasattr(v, "choices"):
        return list(v.choices)
    if hasattr(v, "low"):
        return [v.low, v.high]
    return [v]


def _check_values(kind: str, key: str, v) -> None:
    from axonic.cli.builders import layer_types

    where = f"tune.architecture.{key}"
    for value in _values(v):
        if key == "norm" and value not in NORMS[kind]:
            raise ConfigError(f"{where}: expected one of {', '.join(NORMS[kind])} for "
                              f"kind = {kind!r}, got {value!r}")
        if key == "activation" and value not in layer_types():
            raise ConfigError(f"{where}: unknown layer type {value!r}."
                              f"{_closest(str(value), layer_types())}")
        if key in ("blocks", "width", "kernel_size") and (
                isinstance(value, bool) or not isinstance(value, int)
                or value < (0 if key == "blocks" else 1)):
            raise ConfigError(f"{where}: expected integers >= "
                              f"{0 if key == 'blocks' else 1}, got {value!r}")
        if key == "dropout" and (isinstance(value, bool) or not isinstance(value, int | float)
                                 or not 0 <= value < 1):
            raise ConfigError(f"{where}: expected a probability in [0, 1), got {value!r}")
        if key in ("pool", "residual") and not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _pick(trial, name: str, v):
    """A fixed value as is, or the trial's suggestion from the distribution."""
    return suggest(trial, name, v) if is_distribution(v) else v


def suggest_layers(trial, arch: dict, input_shape: tuple) -> list:
    """The searched blocks as config layer tables (input widths left to inference)."""
    kind, layers = arch["kind"], []
    blocks = _pick(trial, "blocks", arch["blocks"])
    size = min(input_shape[-2:]) if kind == "cnn" and len(input_shape) >= 2 else 0
    activation = _pick(trial, "activation", arch["activation"])
    norm = NORMS[kind][_pick(trial, "norm", arch["norm"])]
    dropout = _pick(trial, "dropout", arch["dropout"])
    residual = _pick(trial, "residual", arch["residual"])
    for i in range(blocks):
        width = _pick(trial, f"block{i}.width", arch["width"])
        if kind == "cnn":
            k = _pick(trial, f"block{i}.kernel_size", arch["kernel_size"])
            block = [{"type": "Conv2d", "out_channels": width, "kernel_size": k,
                      "padding": k // 2}]
        else:
            block = [{"type": "Linear", "out_features": width}]
        if norm is not None:
            block.append({"type": norm})
        block.append({"type": activation})
        if residual:
            block = [{"type": "Residual2d" if kind == "cnn" else "Residual", "layers": block}]
        layers.extend(block)
        if kind == "cnn" and size >= 2 and _pick(trial, f"block{i}.pool", arch["pool"]):
            layers.append({"type": "MaxPool2d", "kernel_size": 2})
            size //= 2
        if dropout:
            layers.append({"type": "Dropout", "p": float(dropout)})
    return layers


def probe_architectures(arch: dict) -> list:
    """Two parameter sets that stand for the space when checking it: every parameter at
    its first choice or low end, and every one at its last choice or high end."""
    def point(end: int) -> dict:
        fixed = {}
        for key in DEFAULTS:
            v = arch[key]
            if is_distribution(v):
                fixed[key] = _values(v)[end]
        return fixed
    return [point(0), point(-1)]


class ProbeTrial:
    """A stand-in trial that answers every suggestion from ``values`` (per-block names
    fall back to their shared key: ``block1.width`` -> ``width``)."""

    def __init__(self, values: dict):
        self.values = values

    def _answer(self, name: str, default):
        return self.values.get(name, self.values.get(name.split(".")[-1], default))

    def suggest_categorical(self, name, choices):
        return self._answer(name, choices[0])

    def suggest_int(self, name, low, high, step=1, log=False):
        return self._answer(name, low)

    def suggest_float(self, name, low, high, step=None, log=False):
        return self._answer(name, low)

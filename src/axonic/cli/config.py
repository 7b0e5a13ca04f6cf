"""The TOML run configuration: its schema, defaults and validation.

A configuration has the top-level keys ``seed``, ``epochs``, ``name`` and the tables
``[data]``, ``[model]``, ``[loss]``, ``[optimizer]``, ``[schedule]``, ``[training]``,
``[callbacks]`` (docs/TRAINING.md lists every key) and ``[distill]`` (docs/DEPLOY.md).
``load_config`` parses the file with ``tomllib``, checks every key and type, names the
closest key when one is misspelt, and fills in defaults; ``resolve`` does the same for a dict.

>>> cfg = resolve({"model": {"layers": [{"type": "Linear", "in_features": 4,
...                                      "out_features": 3}]},
...                "data": {"dataset": "iris"}})
>>> cfg["optimizer"], cfg["data"]["batch_size"]
({'type': 'Adam', 'lr': 0.001}, 32)
"""

from __future__ import annotations

import copy
import difflib
import tomllib
from pathlib import Path

from axonic.train.run_dir import RunDir


class ConfigError(ValueError):
    """A configuration that cannot run: the message names the key or layer at fault."""


def _closest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


# key -> (accepted types, default, what it is). A default of REQUIRED must be given.
REQUIRED = object()
_NUM = (int, float)

TOP = {
    "name": (str, "run", "a name for the run (the run directory starts with it)"),
    "seed": (int, 0, "seeds the model init, the splits, the shuffle order and dropout"),
    "epochs": (int, 20, "number of training epochs"),
    "data": (dict, REQUIRED, "the [data] table"),
    "model": (dict, REQUIRED, "the [model] table"),
    "loss": (dict, {"type": "CrossEntropyLoss"}, "the [loss] table"),
    "optimizer": (dict, {"type": "Adam", "lr": 1e-3}, "the [optimizer] table"),
    "schedule": (dict, None, "the [schedule] table (optional)"),
    "training": (dict, {}, "the [training] table"),
    "callbacks": (dict, {}, "the [callbacks] table"),
    "distill": (dict, None, "the [distill] table (optional): train against a teacher run"),
}

DATA = {
    "dataset": (str, REQUIRED, "a bundled dataset name (digits, iris, wine, breast_cancer, "
                               "diabetes, ...) or 'csv', 'npz', 'timeseries', 'text'"),
    "args": (dict, {}, "keyword arguments of the dataset (e.g. as_images = true, path = ...)"),
    "splits": (list, [0.7, 0.15, 0.15], "train / validation / test fractions"),
    "stratify": (bool, True, "keep class proportions in every split (classification)"),
    "batch_size": (int, 32, "training batch size"),
    "shuffle": (bool, True, "shuffle the training set each epoch (seeded)"),
    "transforms": (list, [], "input transforms, e.g. [{type = 'Standardize'}]"),
    "target": (str, "all", "'all', or 'last': keep only the last step of sequence targets"),
}

MODEL = {
    "layers": (list, REQUIRED, "the layers in order, each {type = 'Linear', ...}"),
}

TRAINING = {
    "metrics": (list, None, "metric names (default: accuracy for classification, mae and "
                            "rmse for regression)"),
    "grad_accum_steps": (int, 1, "batches per optimizer step"),
    "clip_grad_norm": (_NUM, None, "max total gradient norm"),
    "l2": (_NUM, 0.0, "L2 penalty on weights (not biases)"),
    "device": (str, "cpu", "'cpu' or 'cuda'"),
}

CALLBACKS = {
    "early_stopping": (dict, None, "EarlyStopping arguments (monitor, patience, min_delta, "
                                   "mode, restore_best_weights)"),
    "model_checkpoint": (dict, {}, "ModelCheckpoint arguments (monitor, save_best_only, "
                                   "every_n_epochs, every_n_steps)"),
    "csv_logger": (bool, True, f"write {RunDir.HISTORY}"),
    "plotter": (bool, True, f"write {RunDir.CURVES}"),
    "tensorboard": (bool, False, f"write TensorBoard event files under {RunDir.TENSORBOARD}/"),
    "progress": (bool, True, "show progress"),
}

DISTILL = {
    "teacher": (str, REQUIRED, "the teacher's run directory (e.g. 'runs/<run>')"),
    "temperature": (_NUM, 4.0, "softens teacher and student outputs (> 0)"),
    "alpha": (_NUM, 0.5, "weight of the soft (teacher) loss, in [0, 1]"),
}

SECTIONS = {"data": DATA, "model": MODEL, "training": TRAINING, "callbacks": CALLBACKS}

_TYPE_NAMES = {str: "a string", int: "an integer", dict: "a table", list: "an array",
               bool: "a boolean", _NUM: "a number"}


def _check_type(where: str, value, types) -> None:
    ok = isinstance(value, types) and not (isinstance(value, bool) and types in (int, _NUM))
    if not ok:
        raise ConfigError(f"{where}: expected {_TYPE_NAMES.get(types, types)}, got "
                          f"{value!r} ({type(value).__name__})")


def _check_table(where: str, table: dict, schema: dict) -> dict:
    for key in table:
        if key not in schema:
            raise ConfigError(f"{where}: unknown key {key!r}.{_closest(key, schema)} "
                              f"Allowed keys: {', '.join(schema)}")
    out = {}
    for key, (types, default, _) in schema.items():
        label = f"{where}.{key}" if where else key
        if key in table:
            value = table[key]
            if value is not None:
                _check_type(label, value, types)
            out[key] = value
        elif default is REQUIRED:
            raise ConfigError(f"{label} is required ({schema[key][2]})")
        else:
            out[key] = copy.deepcopy(default)
    return out


def _check_typed_table(where: str, table, who: str) -> dict:
    """A table with a ``type`` (the class name) and that class's keyword arguments."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table with a 'type' key, got {table!r}")
    if "type" not in table or not isinstance(table["type"], str):
        raise ConfigError(f"{where}: needs type = \"<{who} class name>\"")
    return dict(table)


def resolve(cfg: dict) -> dict:
    """Check ``cfg`` against the schema and return it with every default filled in."""
    if not isinstance(cfg, dict):
        raise ConfigError(f"config: expected a table, got {type(cfg).__name__}")
    _check_depth("the configuration", cfg)
    out = _check_table("", cfg, TOP)
    for name in ("data", "model", "training", "callbacks"):
        out[name] = _check_table(name, out[name], SECTIONS[name])
    data = out["data"]
    splits = data["splits"]
    if (len(splits) != 3 or not all(isinstance(f, _NUM) and not isinstance(f, bool)
                                    and 0 <= f < 1 for f in splits)
            or abs(sum(splits) - 1) > 1e-6 or splits[0] <= 0):
        raise ConfigError(f"data.splits: expected three fractions (train, validation, test) "
                          f"in [0, 1) that sum to 1, got {splits!r}")
    if data["target"] not in ("all", "last"):
        raise ConfigError(f"data.target: expected 'all' or 'last', got {data['target']!r}")
    for name, lo in (("batch_size", 1),):
        if data[name] < lo:
            raise ConfigError(f"data.{name}: expected an integer >= {lo}, got {data[name]}")
    if not 0 <= out["seed"] < 2**32:
        raise ConfigError(f"seed: expected an integer in [0, 2**32), got {out['seed']}")
    if out["epochs"] < 0 or out["seed"] < 0:
        raise ConfigError(f"epochs and seed must be >= 0, got epochs={out['epochs']}, "
                          f"seed={out['seed']}")
    for i, t in enumerate(data["transforms"]):
        _check_typed_table(f"data.transforms[{i}]", t, "transform")
    layers = out["model"]["layers"]
    if not layers:
        raise ConfigError("model.layers: expected at least one layer")
    for i, layer in enumerate(layers):
        _check_typed_table(f"model.layers[{i}]", layer, "layer")
    for name in ("loss", "optimizer"):
        _check_typed_table(name, out[name], name)
    if out["schedule"] is not None:
        _check_typed_table("schedule", out["schedule"], "lr_scheduler")
        interval = out["schedule"].get("interval", "epoch")
        if interval not in ("epoch", "batch"):
            raise ConfigError(f"schedule.interval: expected 'epoch' or 'batch', got "
                              f"{interval!r}")
    if out["training"]["metrics"] is not None:
        for m in out["training"]["metrics"]:
            _check_type("training.metrics[]", m, str)
    es = out["callbacks"]["early_stopping"]
    if es is not None:
        _check_table("callbacks.early_stopping", es, {
            k: (object, None, "") for k in
            ("monitor", "patience", "min_delta", "mode", "restore_best_weights")})
    _check_table("callbacks.model_checkpoint", out["callbacks"]["model_checkpoint"], {
        k: (object, None, "") for k in
        ("monitor", "mode", "save_best_only", "every_n_epochs", "every_n_steps")})
    if out["distill"] is not None:
        out["distill"] = _check_distill(out["distill"])
    return out


def _check_distill(table: dict) -> dict:
    d = _check_table("distill", table, DISTILL)
    if not d["temperature"] > 0:
        raise ConfigError(f"distill.temperature: expected a number > 0, got {d['temperature']}")
    if not 0 <= d["alpha"] <= 1:
        raise ConfigError(f"distill.alpha: expected a number in [0, 1], got {d['alpha']}")
    return d


MAX_DEPTH = 16  # a config nests 4 deep; deeper is a mistake (and deepcopy would recurse)


def _check_depth(where, obj) -> None:
    stack = [(obj, 0)]
    while stack:
        x, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(f"config: {where} nests arrays or tables more than {MAX_DEPTH} "
                              "levels deep")
        if isinstance(x, dict):
            stack.extend((v, depth + 1) for v in x.values())
        elif isinstance(x, list):
            stack.extend((v, depth + 1) for v in x)


def read_toml(path) -> dict:
    """A TOML file as a raw dict (size of nesting checked; a data file named relative to
    the config made absolute), with the config's usual errors."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config: no such file: {path}")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config: {path} is not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"config: {path} nests arrays or tables too deeply to read") from None
    _check_depth(path, raw)
    data = raw.get("data")
    args = data.get("args") if isinstance(data, dict) else None
    if isinstance(args, dict) and isinstance(args.get("path"), str) \
            and not Path(args["path"]).is_absolute():
        beside = path.parent / args["path"]  # a data file named relative to the config
        if beside.exists():
            args["path"] = str(beside.resolve())
    return raw


def load_config(path) -> dict:
    """Parse and resolve a TOML configuration file."""
    return resolve(read_toml(path))


# The configuration `axonic train` uses without a file: a small CNN on the 8x8 digits.
DEFAULT = {
    "name": "cnn_digits",
    "seed": 0,
    "epochs": 20,
    "data": {"dataset": "digits", "args": {"as_images": True}, "splits": [0.7, 0.15, 0.15],
             "stratify": True, "batch_size": 32},
    "model": {"layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 16, "kernel_size": 3,
         "padding": 1},
        {"type": "ReLU"},
        {"type": "Conv2d", "in_channels": 16, "out_channels": 32, "kernel_size": 3,
         "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 512, "out_features": 64},
        {"type": "ReLU"},
        {"type": "Dropout", "p": 0.25},
        {"type": "Linear", "in_features": 64, "out_features": 10},
    ]},
    "loss": {"type": "CrossEntropyLoss"},
    "optimizer": {"type": "Adam", "lr": 2e-3},
    "schedule": {"type": "CosineAnnealingLR", "T_max": 20},
    "training": {"metrics": ["accuracy"]},
    "callbacks": {"model_checkpoint": {"monitor": "val_accuracy"}},
}

"""Checks made before a run starts, so that a run never dies half-way for a reason that
could be known up front: missing packages, a missing GPU, settings out of range, a model
too large for memory, an output too narrow for the classes, a run directory outside
``runs/`` or already holding a run.

>>> check_name("iris")
'iris'
"""

from __future__ import annotations

import importlib
import math
import os
from pathlib import Path

from axonic.cli.config import ConfigError

# module -> (pip name, what needs it); the core install lacks them, so `train` checks first
EXTRAS = {"safetensors": ("safetensors", "saving weights and checkpoints"),
          "sklearn": ("scikit-learn", "the bundled datasets, the splits and the metrics")}
EXTRA_HINT = "pip install 'axonic[extras]'"


class MissingExtra(ConfigError):
    """An optional package the command needs is not installed."""


def require_extras(command: str, modules=tuple(EXTRAS)) -> None:
    """One line naming the package and the extra, before anything is trained."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            pip, why = EXTRAS[module]
            raise MissingExtra(f"'{command}' needs the {pip!r} package for {why}, which is "
                               f"not installed: {EXTRA_HINT}") from None


def check_name(name: str) -> str:
    """A run name is one plain path component (the run directory must stay in runs/)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ConfigError(f"name: expected a plain name for the run directory (no '/', "
                          f"'\\\\' or '..'), got {name!r}")
    return name


def _finite(where: str, value, lo=None, strict=False, allow_none=False) -> None:
    if value is None and allow_none:
        return
    bad = isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
        value) or (lo is not None and (value <= lo if strict else value < lo))
    if bad:
        rel = ">" if strict else ">="
        bound = f" {rel} {lo}" if lo is not None else ""
        raise ConfigError(f"{where}: expected a finite number{bound}, got {value!r}")


def check_training(cfg: dict) -> None:
    """The [training], [optimizer] and [callbacks] values a Trainer would only reject (or
    choke on) once training has started."""
    tr = cfg["training"]
    if tr["grad_accum_steps"] < 1:
        raise ConfigError(f"training.grad_accum_steps: expected an integer >= 1, got "
                          f"{tr['grad_accum_steps']}")
    _finite("training.clip_grad_norm", tr["clip_grad_norm"], 0, strict=True, allow_none=True)
    _finite("training.l2", tr["l2"], 0)
    if tr["device"] not in ("cpu", "cuda") and not tr["device"].startswith("cuda:"):
        raise ConfigError(f"training.device: expected 'cpu' or 'cuda', got {tr['device']!r}")
    if tr["device"] != "cpu":
        from axonic.backend import cuda_is_available

        if not cuda_is_available():
            raise ConfigError(f"training.device = {tr['device']!r}, but no CUDA GPU (with "
                              "CuPy) is available here; use device = \"cpu\" or "
                              "pip install 'axonic[gpu]'")
    for table in ("optimizer", "loss", "schedule"):
        for key, value in (cfg.get(table) or {}).items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{table}.{key}: expected a finite number, got {value!r}")
    if "lr" in cfg["optimizer"]:
        _finite("optimizer.lr", cfg["optimizer"]["lr"], 0)
    for name in ("early_stopping", "model_checkpoint"):
        table = cfg["callbacks"][name] or {}
        if "monitor" in table and not isinstance(table["monitor"], str):
            raise ConfigError(f"callbacks.{name}.monitor: expected a metric name such as "
                              f"'val_loss', got {table['monitor']!r}")


def check_metrics(cfg: dict, metrics: list) -> None:
    """Regression metrics on a classifier (and the reverse) would fail at the first epoch."""
    from axonic.cli.builders import is_classification
    from axonic.train import metrics as mt

    regression = (mt.MeanAbsoluteError, mt.MeanSquaredError, mt.RootMeanSquaredError,
                  mt.R2Score)
    classification = (mt.Accuracy, mt.Precision, mt.Recall, mt.F1Score, mt.ROCAUC)
    classify = is_classification(cfg)
    for i, m in enumerate(metrics):
        metric = mt.get_metric(m)
        kind = ("regression" if isinstance(metric, regression) else "classification"
                if isinstance(metric, classification) else None)
        if kind is not None and (kind == "classification") != classify:
            task = "classification" if classify else "regression"
            raise ConfigError(f"training.metrics[{i}]: {metric.name!r} is a {kind} metric, "
                              f"but loss {cfg['loss']['type']} makes this a {task} run")


# integer arguments that are not sizes of a weight (every other integer may be one)
_NOT_SIZES = ("kernel_size", "stride", "padding", "dilation", "output_padding", "groups",
              "num_layers", "nhead", "num_heads", "dim", "start_dim", "end_dim", "seed")


def estimate_bytes(layer: dict) -> int:
    """An upper estimate of a layer's float32 weights from its size arguments: the two
    largest sizes multiplied (times the kernel's area and 4 for recurrent gates)."""
    sizes = sorted((v for k, v in layer.items() if k not in _NOT_SIZES and isinstance(v, int)
                    and not isinstance(v, bool) and v > 0), reverse=True)
    n = math.prod(sizes[:2]) if sizes else 0
    k = layer.get("kernel_size", 1)
    n *= math.prod(v for v in (k if isinstance(k, list) else [k])
                   if isinstance(v, int) and not isinstance(v, bool) and v > 0)
    layers = layer.get("num_layers", 1)
    layers = layers if isinstance(layers, int) and layers > 0 else 1
    n *= 4 * layers if "hidden_size" in layer else 1
    return 4 * n


def memory_bytes() -> int | None:
    """This machine's physical memory, or None where it cannot be asked."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def check_model_size(cfg: dict) -> None:
    """Refuse, before allocating, a model whose weights cannot fit in memory."""
    limit = memory_bytes()
    if limit is None:
        return
    total = 0
    for i, layer in enumerate(cfg["model"]["layers"]):
        need = estimate_bytes(layer)
        total += need
        if 4 * total > limit:  # weights, gradients and two Adam moments
            raise ConfigError(f"model.layers[{i}] ({layer.get('type')}): the model needs "
                              f"about {_gib(4 * total)} (weights, gradients and optimizer "
                              f"state) and this machine has {_gib(limit)} of memory; "
                              "reduce the layer sizes")


def _gib(n: int) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_classes(cfg: dict, out_shape: tuple, n_classes: int | None) -> None:
    """A classifier's output must have a column per class (the 2-sample dry run misses
    a too-narrow output when those samples have small labels)."""
    if n_classes is None or cfg["loss"]["type"] not in ("CrossEntropyLoss", "NLLLoss"):
        return
    width = out_shape[1] if len(out_shape) > 1 else 1
    if width < n_classes:
        raise ConfigError(f"model.layers[{len(cfg['model']['layers']) - 1}]: the model "
                          f"outputs {width} values per sample but the data has "
                          f"{n_classes} classes; the last layer needs out_features = "
                          f"{n_classes}")


def check_out(path: Path, resume: bool) -> None:
    """``--out`` onto an existing run would overwrite it; say so instead."""
    from axonic.train import RunDir

    run = RunDir(path)
    if not resume and run.config.exists():
        raise ConfigError(f"--out: {run.path} already holds a run; continue it with "
                          f"'axonic train --resume {run.path}' or choose another --out")

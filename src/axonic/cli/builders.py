"""Build what a configuration describes: model, loss, optimizer, schedule, callbacks.

Every ``{type = ..., key = value}`` table is checked against the class's signature before
anything is built: an unknown type or key names the closest match and what is allowed,
a value of the wrong type names the expected one. ``check_model`` runs one sample batch
through the layers one at a time and reports the first layer whose input does not fit.

>>> m = build_model({"model": {"layers": [{"type": "Linear", "in_features": 4,
...                                         "out_features": 2}, {"type": "ReLU"}]}})
>>> type(m).__name__, len(m)
('Sequential', 2)
"""

from __future__ import annotations

import inspect

from axonic import nn, optim
from axonic.autograd.grad_mode import no_grad
from axonic.cli.config import ConfigError, _closest
from axonic.cli.layers import HELPERS

_NOT_LAYERS = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
               "Parameter", "RNNBase", "RNNCellBase", "LayerInputError"}
CLASSIFICATION_LOSSES = ("CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss")


def _classes(namespace, base, exclude=()) -> dict:
    out = {}
    for name in dir(namespace):
        obj = getattr(namespace, name)
        if (inspect.isclass(obj) and issubclass(obj, base) and not name.startswith("_")
                and name not in exclude):
            out[name] = obj
    return out


def layer_types() -> dict:
    """Every layer a config may name: axonic.nn's layers and the sequence helpers."""
    losses = set(loss_types())
    layers = {k: v for k, v in _classes(nn, nn.Module, _NOT_LAYERS).items() if k not in losses}
    layers.update(HELPERS)
    return layers


def loss_types() -> dict:
    return {k: v for k, v in _classes(nn, nn.Module).items() if k.endswith("Loss")}


def optimizer_types() -> dict:
    return _classes(optim, optim.Optimizer, {"Optimizer"})


def scheduler_types() -> dict:
    from axonic.optim import lr_scheduler

    return _classes(lr_scheduler, lr_scheduler.LRScheduler, {"LRScheduler"})


_INT_NAMES = {"in_features", "out_features", "in_channels", "out_channels", "num_embeddings",
              "embedding_dim", "hidden_size", "input_size", "num_layers", "num_features",
              "d_model", "nhead", "dim_feedforward", "max_len", "step_size", "T_max",
              "total_steps", "groups"}


def _check_value(where: str, key: str, value, param: inspect.Parameter) -> None:
    default = param.default
    expected = None
    if isinstance(default, bool):
        expected = (bool,)
    elif isinstance(default, int) and default is not None:
        expected = (int, tuple, list) if key in ("kernel_size", "stride", "padding",
                                                  "dilation", "output_padding") else (int,)
    elif isinstance(default, float):
        expected = (int, float)
    elif key in _INT_NAMES and default is inspect.Parameter.empty:
        expected = (int,)
    if expected is None:
        return
    bad = not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)
    if key == "padding" and isinstance(value, str):
        bad = False
    if bad:
        names = " or ".join({bool: "a boolean", int: "an integer", float: "a number",
                             tuple: "a list", list: "a list"}[t] for t in expected
                            if t is not tuple)
        raise ConfigError(f"{where}: {key} must be {names}, got {value!r} "
                          f"({type(value).__name__})")


def build_from_table(where: str, table: dict, types: dict, kind: str, extra=None,
                     skip=("type",)):
    """Instantiate ``types[table['type']](**rest)`` after checking every key and value."""
    name = table["type"]
    if name not in types:
        raise ConfigError(f"{where}: unknown {kind} type {name!r}.{_closest(name, types)} "
                          f"Allowed: {', '.join(sorted(types))}")
    cls = types[name]
    kwargs = {k: v for k, v in table.items() if k not in skip}
    params = inspect.signature(cls.__init__).parameters
    named = {k: p for k, p in params.items() if k != "self"
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params.values())
    given = dict(extra or {})
    for key, value in kwargs.items():
        if key not in named:
            if takes_any:
                continue
            allowed = [k for k in named if k not in given]
            raise ConfigError(f"{where} ({name}): unknown key {key!r}."
                              f"{_closest(key, allowed)} Allowed keys: {', '.join(allowed)}")
        _check_value(f"{where} ({name})", key, value, named[key])
    missing = [k for k, p in named.items() if p.default is inspect.Parameter.empty
               and k not in kwargs and k not in given]
    if missing:
        raise ConfigError(f"{where} ({name}): missing required key(s) {', '.join(missing)}")
    kwargs = {k: tuple(v) if isinstance(v, list) and k in ("betas", "kernel_size", "stride",
                                                            "padding", "normalized_shape")
              else v for k, v in kwargs.items()}
    try:
        return cls(**given, **kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where} ({name}): {e}") from None


def build_model(cfg: dict) -> nn.Sequential:
    """An ``nn.Sequential`` of the layers in ``cfg['model']['layers']``."""
    types = layer_types()
    layers = [build_from_table(f"model.layers[{i}]", t, types, "layer")
              for i, t in enumerate(cfg["model"]["layers"])]
    return nn.Sequential(*layers)


def build_loss(cfg: dict):
    return build_from_table("loss", cfg["loss"], loss_types(), "loss")


def build_optimizer(cfg: dict, params):
    return build_from_table("optimizer", cfg["optimizer"], optimizer_types(), "optimizer",
                            extra={"params": params})


def build_scheduler(cfg: dict, optimizer, steps_per_epoch: int):
    """The schedule (or None) and its interval ('epoch' or 'batch').

    Conveniences: CosineAnnealingLR's ``T_max`` and OneCycleLR's ``total_steps`` default
    to the length of the run in their interval.
    """
    sched = cfg.get("schedule")
    if not sched:
        return None, "epoch"
    table = dict(sched)
    interval = table.pop("interval", "epoch")
    run = cfg["epochs"] * (steps_per_epoch if interval == "batch" else 1)
    if table["type"] == "CosineAnnealingLR":
        table.setdefault("T_max", max(run, 1))
    if table["type"] == "OneCycleLR":
        table.setdefault("total_steps", max(run, 1))
    return build_from_table("schedule", table, scheduler_types(), "lr_scheduler",
                            extra={"optimizer": optimizer}), interval


def is_classification(cfg: dict) -> bool:
    return cfg["loss"]["type"] in CLASSIFICATION_LOSSES


def build_metrics(cfg: dict) -> list:
    from axonic.train.metrics import get_metric

    names = cfg["training"]["metrics"]
    if names is None:
        names = ["accuracy"] if is_classification(cfg) else ["mae", "rmse"]
    for i, name in enumerate(names):
        try:
            get_metric(name)
        except ValueError as e:
            raise ConfigError(f"training.metrics[{i}]: {e}") from None
    if cfg["loss"]["type"] in ("BCELoss",):
        from axonic.train.metrics import Accuracy

        return [Accuracy(name=n, from_logits=False) if n in ("accuracy", "acc") else n
                for n in names]
    return list(names)


def check_model(model, x, y, loss) -> tuple:
    """Run ``x`` (a small batch) through each layer in turn; on failure, say which layer,
    its input shape and the reason. Then check that the loss accepts output and target.
    Returns the output shape."""
    shapes = []
    was = model.training
    model.eval()
    try:
        with no_grad():
            h = x
            for i, (_, layer) in enumerate(model.named_children()):
                in_shape = _shape(h)
                try:
                    h = layer(h)
                except Exception as e:  # noqa: BLE001  (any failure is reported with its place)
                    msg = str(e).split(": ", 1)[-1] if isinstance(e, nn.LayerInputError) \
                        else str(e)
                    raise ConfigError(
                        f"model.layers[{i}] ({type(layer).__name__}): the input of shape "
                        f"{in_shape} does not fit: {msg}"
                        + _chain(shapes)) from None
                shapes.append((i, type(layer).__name__, in_shape, _shape(h)))
            try:
                loss(h, y)
            except Exception as e:  # noqa: BLE001
                raise ConfigError(f"loss ({type(loss).__name__}): the model output of shape "
                                  f"{_shape(h)} and the target of shape {_shape(y)} do not "
                                  f"fit: {e}") from None
    finally:
        model.train(was)
    return _shape(h)


def _shape(h):
    if isinstance(h, tuple):
        return tuple(_shape(a) for a in h)
    return tuple(h.shape)


def _chain(shapes) -> str:
    if not shapes:
        return ""
    steps = ", ".join(f"[{i}] {name} -> {out}" for i, name, _, out in shapes[-3:])
    return f" (the layers before: {steps})"


def build_callbacks(cfg: dict, run_dir, has_validation: bool) -> list:
    """Callbacks from ``[callbacks]``; files go into ``run_dir`` (a path or a RunDir)."""
    from axonic.train import (
        CSVLogger,
        EarlyStopping,
        ModelCheckpoint,
        Plotter,
        RunDir,
        TensorBoard,
    )

    run = RunDir(run_dir)

    c = cfg["callbacks"]
    default_monitor = "val_loss" if has_validation else "loss"
    out = []
    if c["early_stopping"] is not None:
        es = {"monitor": default_monitor, **c["early_stopping"]}
        try:
            out.append(EarlyStopping(**es))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"callbacks.early_stopping: {e}") from None
    if c["csv_logger"]:
        out.append(CSVLogger(run.history))
    if c["plotter"]:
        out.append(Plotter(run.curves))
    if c["tensorboard"]:
        out.append(TensorBoard(run.tensorboard))
    if c["model_checkpoint"] is not None:
        mc = {"monitor": default_monitor, **c["model_checkpoint"]}
        if not has_validation and mc["monitor"].startswith("val_"):
            mc["monitor"] = mc["monitor"][4:]
        try:
            out.append(ModelCheckpoint(run.checkpoints, **mc))
        except (TypeError, ValueError) as e:
            raise ConfigError(f"callbacks.model_checkpoint: {e}") from None
    return out

"""The ``[tune]`` table: what to optimise, how, and the search space over config keys.

A space key is a dotted path into the config (``"optimizer.lr"``,
``"model.layers.0.out_channels"``, ``"data.batch_size"``); its value is a distribution:
``{low = ..., high = ..., log = false, step = ...}`` (integers when ``low`` and ``high``
are) or ``{choices = [...]}``.

>>> t = parse_tune({"metric": "val_accuracy", "space": {"optimizer.lr": {"low": 1e-4,
...                 "high": 0.1, "log": True}}})
>>> t["direction"], t["space"]["optimizer.lr"]
(['maximize'], FloatDistribution(high=0.1, log=True, low=0.0001, step=None))
>>> cfg = {"optimizer": {"type": "Adam", "lr": 0.001}}
>>> set_path(cfg, "optimizer.lr", 0.01)["optimizer"]
{'type': 'Adam', 'lr': 0.01}
"""

from __future__ import annotations

import copy

from axonic.cli.config import TOP, ConfigError, _check_type, _closest

SAMPLERS = ("grid", "random", "tpe", "cmaes", "nsga2")
PRUNERS = ("none", "median", "hyperband")
EXTRA_OBJECTIVES = ("params", "latency_ms")  # measured after training, not logged per epoch

# key -> (accepted types, default, what it is)
TUNE = {
    "metric": ((str, list), "val_loss", "a metric the run logs (or a list: multi-objective; "
                                        "'params' and 'latency_ms' may follow the first)"),
    "direction": ((str, list), None, "'maximize' or 'minimize' (default: minimize for "
                                     "losses and errors, maximize otherwise)"),
    "trials": (int, 20, "the study's total number of trials"),
    "sampler": (str, "tpe", "grid | random | tpe | cmaes | nsga2"),
    "pruner": (str, "median", "none | median | hyperband"),
    "pruner_args": (dict, {}, "keyword arguments of the Optuna pruner"),
    "seed": (int, None, "the sampler's seed (default: the config's seed)"),
    "heartbeat_interval": (int, 10, "seconds between a running trial's heartbeats; a trial "
                                    "silent for twice as long is failed and retried"),
    "space": (dict, {}, "dotted config key -> {low, high, log, step} or {choices}"),
    "architecture": (dict, None, "an architecture search space (see axonic.tune.nas)"),
}


def _default_direction(metric: str) -> str:
    lower = ("loss", "mae", "mse", "rmse", "error", "params", "latency_ms")
    return "minimize" if any(metric.endswith(w) for w in lower) else "maximize"


def distribution(key: str, spec):
    """The Optuna distribution of one space entry, with the config's kind of error."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    where = f"tune.space.{key!r}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected {{low = ..., high = ...}} or {{choices = [...]}}, "
                          f"got {spec!r}")
    if "choices" in spec:
        extra = set(spec) - {"choices"}
        choices = spec["choices"]
        if extra:
            raise ConfigError(f"{where}: a choices entry takes no other keys, got "
                              f"{sorted(extra)}")
        if not isinstance(choices, list) or not choices or not all(
                isinstance(c, str | int | float | bool) for c in choices):
            raise ConfigError(f"{where}: choices must be a non-empty array of strings, "
                              f"numbers or booleans, got {choices!r}")
        return CategoricalDistribution(choices)
    allowed = {"low", "high", "log", "step"}
    if set(spec) - allowed or not {"low", "high"} <= set(spec):
        raise ConfigError(f"{where}: expected keys low, high (and optionally log, step) or "
                          f"choices, got {sorted(spec)}")
    low, high, log, step = spec["low"], spec["high"], spec.get("log", False), spec.get("step")
    for name, v in (("low", low), ("high", high)) + ((("step", step),) if step else ()):
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ConfigError(f"{where}: {name} must be a number, got {v!r}")
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log must be true or false, got {log!r}")
    if not low < high:
        raise ConfigError(f"{where}: low must be below high, got low={low!r}, high={high!r}")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log scale needs low > 0, got low={low!r}")
    if log and step is not None:
        raise ConfigError(f"{where}: step and log cannot be used together")
    if all(isinstance(v, int) for v in (low, high) + ((step,) if step else ())):
        return IntDistribution(low, high, log=log, step=step or 1)
    return FloatDistribution(float(low), float(high), log=log,
                             step=None if step is None else float(step))


def parse_tune(table: dict, seed: int = 0) -> dict:
    """Check the ``[tune]`` table; returns it with defaults, ``metric`` and ``direction``
    as lists, and ``space`` as ``{key: Optuna distribution}``."""
    if not isinstance(table, dict):
        raise ConfigError(f"tune: expected a table, got {table!r}")
    for key in table:
        if key not in TUNE:
            raise ConfigError(f"tune: unknown key {key!r}.{_closest(key, TUNE)} "
                              f"Allowed keys: {', '.join(TUNE)}")
    out = {}
    for key, (types, default, _) in TUNE.items():
        value = table.get(key, copy.deepcopy(default))
        if value is not None:
            _check_type(f"tune.{key}", value, types)
        out[key] = value
    metrics = out["metric"] if isinstance(out["metric"], list) else [out["metric"]]
    if not metrics or not all(isinstance(m, str) for m in metrics):
        raise ConfigError(f"tune.metric: expected a metric name or an array of names, got "
                          f"{out['metric']!r}")
    directions = out["direction"]
    if directions is None:
        directions = [_default_direction(m) for m in metrics]
    elif isinstance(directions, str):
        directions = [directions]
    if len(directions) != len(metrics) or any(d not in ("maximize", "minimize")
                                              for d in directions):
        raise ConfigError(f"tune.direction: expected 'maximize' or 'minimize' for each of the "
                          f"{len(metrics)} metric(s) {metrics}, got {out['direction']!r}")
    out["metric"], out["direction"] = metrics, directions
    if out["trials"] < 1:
        raise ConfigError(f"tune.trials: expected an integer >= 1, got {out['trials']}")
    if out["heartbeat_interval"] < 1:
        raise ConfigError(f"tune.heartbeat_interval: expected an integer >= 1 (seconds), got "
                          f"{out['heartbeat_interval']}")
    for key, allowed in (("sampler", SAMPLERS), ("pruner", PRUNERS)):
        if out[key] not in allowed:
            raise ConfigError(f"tune.{key}: unknown {key} {out[key]!r}."
                              f"{_closest(out[key], allowed)} Allowed: {', '.join(allowed)}")
    if len(metrics) > 1 and out["sampler"] in ("cmaes",):
        raise ConfigError("tune.sampler: cmaes optimises one metric; use nsga2, tpe or random "
                          f"for the {len(metrics)} metrics {metrics}")
    out["seed"] = seed if out["seed"] is None else out["seed"]
    out["space"] = {k: distribution(k, v) for k, v in out["space"].items()}
    if not out["space"] and out["architecture"] is None:
        raise ConfigError("tune.space: the search space is empty; add at least one key, e.g. "
                          "\"optimizer.lr\" = { low = 1e-4, high = 0.1, log = true }")
    return out


def set_path(cfg: dict, key: str, value) -> dict:
    """Set the dotted ``key`` of ``cfg`` (in place) to ``value``; returns ``cfg``."""
    where = f"tune.space.{key!r}"
    parts = key.split(".")
    if parts[0] not in TOP:
        raise ConfigError(f"{where}: the config has no key {parts[0]!r}."
                          f"{_closest(parts[0], TOP)} Allowed: {', '.join(TOP)}")
    node = cfg
    for i, part in enumerate(parts[:-1]):
        here = ".".join(parts[:i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(f"{where}: {here!r} needs an index below {len(node)}, got "
                                  f"{part!r}")
            node = node[int(part)]
        elif isinstance(node, dict):
            if node.get(part) is None:
                raise ConfigError(f"{where}: the config has no {here!r}."
                                  f"{_closest(part, [k for k in node if node[k] is not None])}")
            node = node[part]
        if not isinstance(node, dict | list):
            raise ConfigError(f"{where}: {here!r} is {node!r}, not a table or an array")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ConfigError(f"{where}: needs an index below {len(node)}, got {last!r}")
        node[int(last)] = value
    else:
        node[last] = value
    return cfg


def apply(cfg: dict, params: dict) -> dict:
    """A deep copy of ``cfg`` with each dotted key of ``params`` set."""
    out = copy.deepcopy(cfg)
    for key, value in params.items():
        set_path(out, key, value)
    return out


def probe_values(dist) -> list:
    """The values that stand for a distribution when checking it: both ends, every choice."""
    if hasattr(dist, "choices"):
        return list(dist.choices)
    return [dist.low, dist.high]


def is_distribution(v) -> bool:
    from optuna.distributions import BaseDistribution

    return isinstance(v, BaseDistribution)


def suggest(trial, name: str, dist):
    """``trial.suggest_categorical / suggest_int / suggest_float`` for ``dist``."""
    if hasattr(dist, "choices"):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist.low, int) and isinstance(dist.high, int) and not isinstance(
            getattr(dist, "step", None), float):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)

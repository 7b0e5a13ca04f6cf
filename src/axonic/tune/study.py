"""``run``: an Optuna study over a configuration's ``[tune]`` space (``axonic tune``).

Every key of the space is checked before the first trial. Each trial is a normal run in
``<out>/trials/trial-NNNN`` whose per-epoch value of the first metric feeds the pruner.
The study lives in ``<out>/study.db`` (SQLite) unless ``storage`` names another database
(``postgresql://...`` for workers on several machines); ``trials`` is the study's total,
so rerunning continues it, and a trial left running by a killed worker is retried.

>>> import tempfile
>>> cfg = {"epochs": 2, "data": {"dataset": "iris", "transforms": [{"type": "Standardize"}]},
...        "model": {"layers": [{"type": "Linear", "out_features": 3}]},
...        "callbacks": {"plotter": False},
...        "tune": {"metric": "val_accuracy", "trials": 2, "sampler": "random",
...                 "space": {"optimizer.lr": {"low": 0.001, "high": 0.1, "log": True}}}}
>>> study = run(cfg, out=tempfile.mkdtemp(), verbose=0)
>>> len(study.trials), study.trials[0].state.name
(2, 'COMPLETE')
"""

from __future__ import annotations

import copy
import itertools
import sys
import time
from pathlib import Path

from axonic.cli.config import ConfigError, _closest, resolve
from axonic.train.callbacks.base import Callback
from axonic.tune import nas, space
from axonic.tune.runs import close_all, split_tune_table, train_config


def _optuna():
    try:
        import optuna
    except ImportError:
        raise ImportError("axonic.tune needs Optuna: pip install 'axonic[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class ReportToTrial(Callback):
    """Report ``metric`` to an Optuna trial after each epoch; stop when it should prune."""

    def __init__(self, trial, metric: str):
        self.trial, self.metric, self.pruned_at = trial, metric, None

    def on_epoch_end(self, epoch, logs=None):
        self.trial.report(float(logs[self.metric]), epoch)
        if self.trial.should_prune():
            self.pruned_at = epoch + 1
            self.trainer.stop_training = True


def logged_metrics(cfg: dict) -> list:
    """The names a run of ``cfg`` logs each epoch (``val_`` ones with a validation split)."""
    from axonic.cli.builders import build_metrics
    from axonic.train.metrics import get_metric

    names = ["loss"] + [get_metric(m).name for m in build_metrics(cfg)]
    if cfg["data"]["splits"][1] > 0:
        names += ["val_" + n for n in names]
    return names + ["lr"]


def _launcher_rank() -> int:
    """This worker's rank when ``mpirun``/``srun`` started several (0 otherwise)."""
    import os

    for name in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 0


def _sampler(optuna, t: dict):
    kind, seed = t["sampler"], t["seed"]
    if seed is not None:  # workers under one launcher sample different points
        seed += _launcher_rank()
    if kind == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise ImportError("tune.sampler = 'cmaes' needs the cmaes package: pip install "
                              "'axonic[tune]'") from None
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if kind == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.RandomSampler(seed=seed)  # random, and grid (its points are queued)


def _pruner(optuna, t: dict, epochs: int):
    args, kind = t["pruner_args"], t["pruner"]
    if kind == "none" or len(t["metric"]) > 1:  # Optuna prunes single-objective studies only
        return optuna.pruners.NopPruner()
    try:
        if kind == "median":
            return optuna.pruners.MedianPruner(**args)
        return optuna.pruners.HyperbandPruner(**{"min_resource": 1,
                                                 "max_resource": max(epochs, 1), **args})
    except TypeError as e:
        raise ConfigError(f"tune.pruner_args: {e}") from None


def grid_points(t: dict) -> list:
    """Every combination of the space's values (grid search needs choices or a step)."""
    axes = []
    for key, dist in t["space"].items():
        if hasattr(dist, "choices"):
            axes.append(list(dist.choices))
        elif dist.step is not None:
            n = int(round((dist.high - dist.low) / dist.step)) + 1
            axes.append([dist.low + i * dist.step for i in range(n)])
        else:
            raise ConfigError(f"tune.space.{key!r}: grid search needs choices = [...] or a "
                              "step")
    return [dict(zip(t["space"], p)) for p in itertools.product(*axes)]


def check_space(cfg: dict, t: dict) -> None:
    """Build everything a trial builds for every end and choice of every key (one key at a
    time), so a bad key fails now with the config's own message, not in trial 17."""
    from axonic.cli.builders import build_metrics, build_optimizer, build_scheduler
    from axonic.cli.data import build_splits
    from axonic.tune.runs import setup

    base_splits = build_splits(cfg)
    probes = [({}, None)]
    for key, dist in t["space"].items():
        probes += [({key: v}, None) for v in space.probe_values(dist)]
    if t["architecture"] is not None:
        probes += [({}, p) for p in nas.probe_architectures(t["architecture"])]
    for params, arch_values in probes:
        label = ", ".join(f"{k!r} = {v!r}" for k, v in params.items()) or "the base config"
        if arch_values is not None:
            label = f"tune.architecture with {arch_values}"
        try:
            c = trial_config(cfg, t, params, nas.ProbeTrial(arch_values or {}),
                             base_splits.input_shape)
            data_key = any(k.startswith("data.") and k not in ("data.batch_size",
                                                                "data.shuffle")
                           for k in params)
            _, splits, model, _ = setup(c, None if data_key else base_splits)
            optimizer = build_optimizer(c, model.parameters())
            build_scheduler(c, optimizer, 1)
            build_metrics(c)
        except ConfigError as e:
            prefix = "" if str(e).startswith("tune.") else f"tune.space with {label}: "
            raise ConfigError(f"{prefix}{e}") from None
    names = logged_metrics(cfg)
    for i, metric in enumerate(t["metric"]):
        if metric not in names and not (i > 0 and metric in space.EXTRA_OBJECTIVES):
            extra = f", or after the first: {', '.join(space.EXTRA_OBJECTIVES)}"
            raise ConfigError(f"tune.metric: the runs do not log {metric!r}."
                              f"{_closest(metric, names)} They log {', '.join(names)}{extra}")


def trial_config(cfg: dict, t: dict, params: dict, trial, input_shape) -> dict:
    """The resolved config of one trial: the space's values set, the searched blocks (if
    any) in front of the head."""
    c = space.apply(cfg, params)
    if t["architecture"] is not None:
        c["model"]["layers"] = nas.suggest_layers(trial, t["architecture"], input_shape) \
            + copy.deepcopy(cfg["model"]["layers"])
    return resolve(c)


def _latency_ms(run, repeats: int = 30) -> float:
    """Median milliseconds of one forward pass on one sample, in eval mode."""
    import numpy as np

    import axonic

    model, x = run.extra["model"], axonic.tensor(run.extra["sample"])
    model.eval()
    times = []
    with axonic.no_grad():
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def _objective_values(run, t: dict) -> list:
    out = []
    for metric in t["metric"]:
        if metric == "params":
            out.append(float(run.num_params))
        elif metric == "latency_ms":
            out.append(_latency_ms(run))
        else:
            out.append(run.last(metric))
    return out


def run_trial(study, trial, cfg: dict, t: dict, out: Path, input_shape, callbacks=(),
              verbose: int = 1) -> None:
    """Sample the trial's config, train it in its own run directory and tell the study."""
    from optuna.trial import TrialState

    from axonic.tune.toml import dumps

    log = (lambda *a: print(*a, flush=True)) if verbose else (lambda *a: None)
    run_dir = out / "trials" / f"trial-{trial.number:04d}"
    trial.set_user_attr("run_dir", str(run_dir))
    try:
        params = {k: space.suggest(trial, k, d) for k, d in t["space"].items()}
        c = trial_config(cfg, t, params, trial, input_shape)
        c["name"] = f"{cfg['name']}-trial-{trial.number:04d}"
        report = None
        cbs = [cb_factory(trial, run_dir) for cb_factory in callbacks]
        if len(t["metric"]) == 1 and t["pruner"] != "none":
            report = ReportToTrial(trial, t["metric"][0])
            cbs.append(report)
        run = train_config(c, run_dir, callbacks=cbs)
        (run_dir / "config.toml").write_text(dumps(run.config))
        close_all(cbs)
        if report is not None and report.pruned_at is not None:
            trial.set_user_attr("pruned_at_epoch", report.pruned_at)
            study.tell(trial, state=TrialState.PRUNED)
            log(f"trial {trial.number}: pruned after epoch {report.pruned_at}  {trial.params}")
            return
        values = _objective_values(run, t)
        study.tell(trial, values if len(values) > 1 else values[0])
        shown = ", ".join(f"{m} {v:.4g}" for m, v in zip(t["metric"], values))
        log(f"trial {trial.number}: {shown}  {trial.params}")
    except KeyboardInterrupt:
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        study.tell(trial, state=TrialState.FAIL)
        raise
    except Exception as e:  # noqa: BLE001  (a failed trial is recorded, the study goes on)
        trial.set_user_attr("error", f"{type(e).__name__}: {e}")
        study.tell(trial, state=TrialState.FAIL)
        print(f"axonic tune: trial {trial.number} failed: {type(e).__name__}: {e}",
              file=sys.stderr, flush=True)


def prepare(config, trials: int | None = None):
    """``(resolved config, parsed [tune] table)`` of a path or dict, every key checked."""
    raw, table = split_tune_table(config)
    cfg = resolve(raw)
    t = space.parse_tune(table, seed=cfg["seed"])
    if t["architecture"] is not None:
        t["architecture"] = nas.parse_architecture(t["architecture"])
    if t["sampler"] == "grid":
        if t["architecture"] is not None:
            raise ConfigError("tune.sampler: grid search needs a fixed space; search an "
                              "architecture with tpe, random or nsga2")
        t["grid"] = grid_points(t)
        if "trials" not in table:
            t["trials"] = len(t["grid"])
        elif t["trials"] > len(t["grid"]):
            raise ConfigError(f"tune.trials: {t['trials']} is more than the grid's "
                              f"{len(t['grid'])} points")
    if trials is not None:
        t["trials"] = trials
    check_space(cfg, t)
    return cfg, t


def _others_running(study) -> bool:
    from optuna.trial import TrialState

    return bool(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def _next_grid_point(t: dict):
    def pick(study):
        from axonic.tune.storage import counted_trials

        done = [tr.params for tr in counted_trials(study)]
        return next(p for p in t["grid"] if p not in done)
    return pick


def run(config, out=None, storage: str | None = None, study_name: str | None = None,
        trials: int | None = None, callbacks=(), verbose: int = 1):
    """Run (or continue) the study of ``config`` (a TOML path or a dict with a ``[tune]``
    table) until it holds ``trials`` finished trials (it waits for other workers' running
    trials and retries killed ones); write the reports; return the Optuna study.

    ``out``: the study's folder (default ``runs/tune-<name>``); ``storage``: a database URL
    (default SQLite in ``out``); ``callbacks``: factories ``(trial, run_dir) -> Callback``
    added to every trial's run (e.g. ``MLflowLogger.for_trial``).
    """
    optuna = _optuna()
    from axonic.tune.report import write_reports
    from axonic.tune.storage import (
        Heartbeat,
        default_storage,
        first_use_lock,
        next_trial,
        open_storage,
    )

    cfg, t = prepare(config, trials)
    out = Path(out) if out else Path("runs") / f"tune-{cfg['name']}"
    out.mkdir(parents=True, exist_ok=True)
    url, name = storage or default_storage(out), study_name or cfg["name"]
    with first_use_lock(url, out, name):  # workers starting together create tables once
        rdb = open_storage(url, t["heartbeat_interval"])
        study = optuna.create_study(storage=rdb, study_name=name, directions=t["direction"],
                                    sampler=_sampler(optuna, t),
                                    pruner=_pruner(optuna, t, cfg["epochs"]),
                                    load_if_exists=True)
    if [d.name.lower() for d in study.directions] != t["direction"]:
        raise ConfigError(f"tune.direction: the study {name!r} in {storage or out} optimises "
                          f"{[d.name.lower() for d in study.directions]}, the config asks "
                          f"for {t['direction']}; use another --study-name")
    from axonic.cli.data import build_splits

    input_shape = build_splits(cfg).input_shape
    fixed = _next_grid_point(t) if t["sampler"] == "grid" else None
    while True:
        trial = next_trial(study, rdb, out, t["trials"], fixed)
        if trial is None:
            if not _others_running(study):
                break
            # another worker's trial (or a killed one, until its heartbeat goes stale)
            time.sleep(t["heartbeat_interval"])
            continue
        with Heartbeat(rdb, trial, t["heartbeat_interval"]):
            run_trial(study, trial, cfg, t, out, input_shape, callbacks, verbose)
    write_reports(study, cfg, t, out, verbose=verbose)
    return study

"""What a study leaves in its folder: ``trials.csv`` (every trial), ``best.toml`` (the best
trial's config, runnable by ``axonic train``) or ``pareto/`` (one config per trial on the
Pareto front of a multi-objective study), and Optuna's matplotlib plots: optimisation
history, parameter importances, parallel coordinates, Pareto front."""

from __future__ import annotations

import csv
import json
import sys
import warnings
from pathlib import Path

FILES = {"trials": "trials.csv", "best": "best.toml", "pareto": "pareto",
         "history": "optimization_history.png", "importances": "param_importances.png",
         "parallel": "parallel_coordinates.png", "front": "pareto_front.png"}


def write_trials_csv(study, path) -> None:
    """One row per trial: number, state, value(s), parameters, run directory, notes."""
    trials = study.get_trials(deepcopy=False)
    params = sorted({k for t in trials for k in t.params})
    n_values = len(study.directions)
    value_cols = ["value"] if n_values == 1 else [f"value_{i}" for i in range(n_values)]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["number", "state", *value_cols, *params, "epochs_reported",
                    "duration_s", "run_dir", "retry_of", "error"])
        for t in trials:
            values = t.values or [None] * n_values
            duration = (t.datetime_complete - t.datetime_start).total_seconds() \
                if t.datetime_complete and t.datetime_start else None
            w.writerow([t.number, t.state.name, *values, *(t.params.get(p) for p in params),
                        len(t.intermediate_values), duration, t.user_attrs.get("run_dir"),
                        t.user_attrs.get("retry_of"), t.user_attrs.get("error")])


def _config_of(trial) -> dict:
    return json.loads((Path(trial.user_attrs["run_dir"]) / "config.json").read_text())


def write_best_configs(study, out: Path) -> list:
    """``best.toml`` (one objective) or ``pareto/trial-NNNN.toml`` (several); the paths."""
    from axonic.tune.toml import dumps

    if len(study.directions) == 1:
        best = study.best_trial
        path = out / FILES["best"]
        path.write_text(f"# trial {best.number}: value {best.value!r}; params {best.params}\n"
                        + dumps(_config_of(best)))
        return [path]
    folder = out / FILES["pareto"]
    folder.mkdir(exist_ok=True)
    paths = []
    for old in folder.glob("trial-*.toml"):
        old.unlink()
    for t in sorted(study.best_trials, key=lambda t: t.number):
        path = folder / f"trial-{t.number:04d}.toml"
        path.write_text(f"# trial {t.number}: values {t.values}; params {t.params}\n"
                        + dumps(_config_of(t)))
        paths.append(path)
    return paths


def _plot(name: str, fn, path: Path, *args, **kwargs) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        with warnings.catch_warnings():  # Optuna marks its matplotlib plots experimental
            warnings.simplefilter("ignore")
            ax = fn(*args, **kwargs)
        fig = ax.ravel()[0].figure if hasattr(ax, "ravel") else ax.figure
        fig.set_size_inches(9, 6)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
    except (ValueError, RuntimeError, ZeroDivisionError) as e:
        print(f"axonic tune: no {name} plot: {e}", file=sys.stderr)
        plt.close("all")


def write_plots(study, metrics: list, out: Path) -> None:
    """Optuna's matplotlib visualisations of the study, as PNGs in ``out``."""
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as vis

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return
    if len(study.directions) > 1:
        _plot("Pareto front", vis.plot_pareto_front, out / FILES["front"], study,
              target_names=metrics)
        return
    _plot("optimisation history", vis.plot_optimization_history, out / FILES["history"],
          study, target_name=metrics[0])
    if len(complete) > 1 and study.best_trial.params:
        _plot("parameter importances", vis.plot_param_importances, out / FILES["importances"],
              study, target_name=metrics[0])
        _plot("parallel coordinates", vis.plot_parallel_coordinate, out / FILES["parallel"],
              study, target_name=metrics[0])


def write_reports(study, cfg: dict, t: dict, out: Path, verbose: int = 1) -> None:
    """Everything above, and a summary on stdout."""
    from optuna.trial import TrialState

    write_trials_csv(study, out / FILES["trials"])
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        print("axonic tune: no trial completed", file=sys.stderr)
        return
    paths = write_best_configs(study, out)
    write_plots(study, t["metric"], out)
    if verbose:
        states = [tr.state.name for tr in study.get_trials(deepcopy=False)]
        counts = ", ".join(f"{s.lower()} {states.count(s)}" for s in sorted(set(states)))
        print(f"axonic tune: {cfg['name']}: {len(states)} trials ({counts}) -> {out}")
        if len(study.directions) == 1:
            best = study.best_trial
            print(f"best trial {best.number}: {t['metric'][0]} = {best.value:.6g}  "
                  f"{best.params}\nbest config: {paths[0]}")
        else:
            print(f"Pareto front: {len(paths)} trial(s); configs in {out / FILES['pareto']}")

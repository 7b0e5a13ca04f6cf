"""``axonic tune CONFIG``: an Optuna search driven by the config's ``[tune]`` table.

    axonic tune CONFIG.toml [--trials N] [--out DIR] [--storage URL] [--study-name NAME]
                            [--mlflow [URI]] [--quiet]

Rerunning the command continues the same study until it holds ``trials`` trials;
several processes given the same ``--storage postgresql://...`` share one study.
"""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser("tune", help="search hyperparameters or architectures with Optuna "
                       "(the config's [tune] table; see docs/TUNING.md)")
    p.add_argument("config", help="a TOML configuration with a [tune] table")
    p.add_argument("--trials", type=int, help="override tune.trials (the study's total)")
    p.add_argument("--out", help="the study's folder (default: runs/tune-<name>)")
    p.add_argument("--storage", help="an Optuna database URL shared by workers, e.g. "
                   "postgresql://user@host/db (default: SQLite in the study's folder)")
    p.add_argument("--study-name", help="the study's name in the storage (default: the "
                   "config's name)")
    p.add_argument("--mlflow", nargs="?", const="sqlite:///mlruns/mlflow.db", metavar="URI",
                   help="log every trial to MLflow (default store: sqlite:///mlruns/mlflow.db)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def mlflow_factories(uri, experiment: str) -> list:
    if uri is None:
        return []
    from axonic.tune.tracking import MLflowLogger, _mlflow

    _mlflow()  # fail now, with the install line, rather than in the first trial
    return [MLflowLogger.for_trial(experiment, tracking_uri=uri)]


def cmd_tune(args) -> int:
    from axonic.tune.runs import split_tune_table
    from axonic.tune.study import run

    if args.trials is not None and args.trials < 1:
        print(f"axonic tune: error: --trials must be >= 1, got {args.trials}", file=sys.stderr)
        return 2
    try:
        raw, _ = split_tune_table(args.config)
        callbacks = mlflow_factories(args.mlflow, f"tune-{raw.get('name', 'run')}")
        run(args.config, out=args.out, storage=args.storage, study_name=args.study_name,
            trials=args.trials, callbacks=callbacks, verbose=0 if args.quiet else 1)
    except ImportError as e:
        print(f"axonic tune: error: {e}", file=sys.stderr)
        return 2
    return 0

"""``axonic cv CONFIG --folds 5``: k-fold cross-validation of a configuration.

    axonic cv CONFIG.toml [--folds K] [--out DIR] [--no-stratify] [--mlflow [URI]] [--quiet]

Prints each fold's validation metrics, their mean and standard deviation, and writes
``cv.csv``, ``cv.json`` and the box plot ``cv.png`` (see ``axonic.tune.cv``).
"""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser("cv", help="k-fold cross-validation (stratified for classification, "
                       "time-ordered for series)")
    p.add_argument("config", help="a TOML configuration")
    p.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    p.add_argument("--out", help="the output folder (default: runs/cv-<name>)")
    p.add_argument("--no-stratify", action="store_true", help="plain shuffled folds for "
                   "classification too")
    p.add_argument("--mlflow", nargs="?", const="sqlite:///mlruns/mlflow.db", metavar="URI",
                   help="log every fold to MLflow (default store: sqlite:///mlruns/mlflow.db)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def cmd_cv(args) -> int:
    from axonic.cli.tune import mlflow_factories
    from axonic.tune.cv import cross_validate
    from axonic.tune.runs import split_tune_table

    try:
        raw, _ = split_tune_table(args.config)
        callbacks = mlflow_factories(args.mlflow, f"cv-{raw.get('name', 'run')}")
        cross_validate(args.config, folds=args.folds, out=args.out,
                       stratified=False if args.no_stratify else None, callbacks=callbacks,
                       verbose=0 if args.quiet else 1)
    except ImportError as e:
        print(f"axonic cv: error: {e}", file=sys.stderr)
        return 2
    return 0

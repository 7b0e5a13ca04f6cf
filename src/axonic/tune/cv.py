"""k-fold cross-validation of a configuration (``axonic cv``).

The config's test split is held out; its training and validation parts are pooled and
cut into ``folds`` folds: stratified for classification (scikit-learn's
``StratifiedKFold``), shuffled ``KFold`` for regression, and time-ordered
``TimeSeriesSplit`` for ``dataset = "timeseries"``, where every training window ends
before the first validation window starts (a gap keeps their time spans apart). Each fold
is a normal run in ``<out>/fold-K`` validated on its held-out fold; the last epoch's
validation metrics of every fold, their mean and standard deviation go to ``cv.csv``,
``cv.json`` and a box plot ``cv.png``.

>>> import tempfile
>>> cfg = {"epochs": 3, "data": {"dataset": "iris", "transforms": [{"type": "Standardize"}]},
...        "model": {"layers": [{"type": "Linear", "out_features": 3}]},
...        "callbacks": {"plotter": False}}
>>> result = cross_validate(cfg, folds=3, out=tempfile.mkdtemp(), verbose=0)
>>> len(result["folds"]), sorted(result["mean"])
(3, ['val_accuracy', 'val_loss'])
"""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path

import numpy as np

from axonic.cli.config import ConfigError, resolve
from axonic.tune.runs import close_all, split_tune_table, train_config


def _splitter(cfg: dict, folds: int, stratified: bool | None, y):
    try:
        from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit
    except ImportError:
        raise ImportError("cross-validation needs scikit-learn: pip install "
                          "'axonic[sklearn]'") from None
    from axonic.cli.builders import is_classification

    data = cfg["data"]
    if data["dataset"] == "timeseries":
        args = data["args"]
        span = int(args.get("window", 1)) + int(args.get("horizon", 1))
        gap = -(-span // int(args.get("stride", 1))) - 1  # windows whose spans would overlap
        return "time-ordered", TimeSeriesSplit(n_splits=folds, gap=gap)
    classify = is_classification(cfg) and y.ndim == 1
    if stratified is None:
        stratified = classify and data["stratify"]
    if stratified and not classify:
        raise ConfigError("cv: stratified folds need a classification config (one label "
                          f"per sample); loss.type is {cfg['loss']['type']!r}")
    if stratified:
        return "stratified", StratifiedKFold(folds, shuffle=True, random_state=cfg["seed"])
    return "shuffled", KFold(folds, shuffle=True, random_state=cfg["seed"])


def _pool(cfg: dict):
    """``(X, y, original indices, base splits)``: all samples but the held-out test ones."""
    from axonic.cli.builders import is_classification
    from axonic.cli.data import _split_indices, as_arrays, build_splits, load_dataset

    base = build_splits(cfg)  # the transforms, classes and shapes of a normal run
    data = cfg["data"]
    X, y = as_arrays(load_dataset(data))
    if data["target"] == "last":
        y = y[:, -1]
    ordered = data["dataset"] == "timeseries"
    stratify = data["stratify"] and is_classification(cfg) and y.ndim == 1 and not ordered
    parts = _split_indices(len(X), y, data["splits"], cfg["seed"], stratify, ordered)
    keep = np.sort(np.concatenate([p for p in parts[:2] if p is not None]))
    return X[keep], y[keep], keep, base


def _fold_splits(cfg: dict, base, X, y, tr, va):
    from axonic.cli.data import Splits, standardize

    fold = Splits((X[tr], y[tr]), (X[va], y[va]), None, base.input_shape, base.input_dtype,
                  base.classes, {}, base.train_transform)
    for t in cfg["data"]["transforms"]:
        if t["type"] == "Standardize":  # statistics of this fold's training part only
            mean = fold.train[0].mean(axis=0)
            std = fold.train[0].std(axis=0) + float(t.get("eps", 1e-8))
            fold.preprocess["standardize"] = {"mean": mean.tolist(), "std": std.tolist()}
            fold.train = (standardize(fold.train[0], fold.preprocess), fold.train[1])
            fold.val = (standardize(fold.val[0], fold.preprocess), fold.val[1])
    return fold


def _write(result: dict, out: Path) -> None:
    names = list(result["mean"])
    with open(out / "cv.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["fold", "n_train", "n_val", *names])
        for r in result["folds"]:
            w.writerow([r["fold"], r["n_train"], r["n_val"], *(r[n] for n in names)])
        for stat in ("mean", "std"):
            w.writerow([stat, "", "", *(result[stat][n] for n in names)])
    (out / "cv.json").write_text(json.dumps({k: v for k, v in result.items()
                                             if k != "indices"}, indent=1, default=str))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        values = [r[name] for r in result["folds"]]
        ax.boxplot(values)
        ax.plot(np.ones(len(values)), values, "o", alpha=0.6)
        ax.set_title(name)
        ax.set_xticks([])
    fig.suptitle(f"{result['name']}: {len(result['folds'])}-fold {result['kind']} "
                 "cross-validation")
    fig.tight_layout()
    fig.savefig(out / "cv.png", dpi=100)
    plt.close(fig)


def cross_validate(config, folds: int = 5, out=None, stratified: bool | None = None,
                   callbacks=(), verbose: int = 1) -> dict:
    """Train ``config`` (a TOML path or a dict; a ``[tune]`` table is ignored) on each of
    ``folds`` folds. Returns ``{"folds": [{"fold", "n_train", "n_val", <val metrics>}],
    "mean": {...}, "std": {...}, "kind", "indices": [(train, val) sample indices], "out"}``.
    ``callbacks``: factories ``(fold, run_dir) -> Callback`` added to each fold's run."""
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"cv: --folds must be an integer >= 2, got {folds!r}")
    raw, _ = split_tune_table(config)
    cfg = resolve(raw)
    X, y, index, base = _pool(cfg)
    kind, splitter = _splitter(cfg, folds, stratified, y)
    out = Path(out) if out else Path("runs") / f"cv-{cfg['name']}"
    out.mkdir(parents=True, exist_ok=True)
    rows, indices = [], []
    labels = y if kind == "stratified" else None
    try:
        pieces = list(splitter.split(X, labels))
    except ValueError as e:
        raise ConfigError(f"cv: cannot make {folds} {kind} folds of {len(X)} samples: "
                          f"{e}") from None
    for k, (tr, va) in enumerate(pieces, start=1):
        fold_cfg = copy.deepcopy(cfg)
        fold_cfg["name"] = f"{cfg['name']}-fold-{k}"
        fold_cfg["callbacks"]["progress"] = False
        run_dir = out / f"fold-{k}"
        cbs = [factory(k, run_dir) for factory in callbacks]
        run = train_config(fold_cfg, run_dir, cbs, splits=_fold_splits(cfg, base, X, y, tr, va))
        close_all(cbs)
        row = {"fold": k, "n_train": len(tr), "n_val": len(va)}
        row.update({m: run.last(m) for m in run.history if m.startswith("val_")})
        rows.append(row)
        indices.append((index[tr], index[va]))
        if verbose:
            print(f"fold {k}/{folds}: " + "  ".join(f"{m} {v:.4f}" for m, v in row.items()
                                                    if m.startswith("val_")), flush=True)
    names = [m for m in rows[0] if m.startswith("val_")]
    mean = {m: float(np.mean([r[m] for r in rows])) for m in names}
    std = {m: float(np.std([r[m] for r in rows], ddof=1)) if len(rows) > 1 else math.nan
           for m in names}
    result = {"name": cfg["name"], "kind": kind, "folds": rows, "mean": mean, "std": std,
              "indices": indices, "out": str(out)}
    _write(result, out)
    if verbose:
        print("mean ± std: " + "  ".join(f"{m} {mean[m]:.4f} ± {std[m]:.4f}" for m in names))
        print(f"table: {out / 'cv.csv'}  box plot: {out / 'cv.png'}")
    return result

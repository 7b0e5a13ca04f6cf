"""The ``[data]`` table: load a dataset, split it (stratified, seeded), apply transforms.

``dataset`` is a name known to ``axonic.data.get_dataset`` (digits, iris, wine,
breast_cancer, diabetes, ...) or one of the file/sequence loaders:

- ``"csv"``: ``args`` go to ``CSVDataset`` (``path``, ``target``, ...);
- ``"npz"``: ``args`` go to ``NPZDataset`` (``path``, ...);
- ``"timeseries"``: ``args = {path = "series.npy" | "series.csv", window, horizon,
  stride}`` or ``{synthetic = "sine", length, noise, ...}``, windows by
  ``SlidingWindowDataset``; split in time order (no shuffling across the split);
- ``"text"``: ``args = {text = "..." | path = "...", seq_len, stride}``, character windows
  by ``CharCorpus`` (use ``target = "last"`` to predict the next character only).

The whole dataset is materialised as arrays (these are small datasets), so the splits,
the standardisation statistics and the inputs of ``axonic predict`` are exact.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from axonic.cli.builders import is_classification
from axonic.cli.config import ConfigError, _closest


@dataclass
class Splits:
    """Train / validation / test arrays and what ``predict`` needs to redo the inputs."""

    train: tuple
    val: tuple | None
    test: tuple | None
    input_shape: tuple
    input_dtype: str
    classes: list | None = None
    preprocess: dict = field(default_factory=dict)
    train_transform: object = None


def _call(where: str, factory, args: dict):
    params = inspect.signature(factory).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        for key in args:
            if key not in params:
                allowed = [k for k in params if k != "self"]
                raise ConfigError(f"{where}: unknown key {key!r}.{_closest(key, allowed)} "
                                  f"Allowed keys: {', '.join(allowed)}")
    try:
        return factory(**args)
    except (TypeError, ValueError, KeyError, OSError) as e:
        raise ConfigError(f"{where}: {e}") from None


def _synthetic(kind: str, length: int = 2000, noise: float = 0.05, period: float = 50.0,
               seed: int = 0) -> np.ndarray:
    """A noisy periodic series: a sine plus a slower sine plus Gaussian noise."""
    if kind != "sine":
        raise ConfigError(f"data.args.synthetic: expected 'sine', got {kind!r}")
    t = np.arange(length, dtype=np.float64)
    rng = np.random.default_rng(seed)
    s = np.sin(2 * np.pi * t / period) + 0.5 * np.sin(2 * np.pi * t / (period * 3.7))
    return (s + noise * rng.normal(size=length)).astype(np.float32)


def _read_series(path) -> np.ndarray:
    path = Path(path)
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False).astype(np.float32)
    return read_table(path).astype(np.float32).squeeze()


def read_table(path) -> np.ndarray:
    """A numeric CSV (a header row is skipped when it is not numbers) or a .npy file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no such file: {path}")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with open(path) as f:
        first = f.readline()
    try:
        [float(v) for v in first.strip().split(",") if v.strip()]
        skip = 0
    except ValueError:
        skip = 1
    try:
        return np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise ConfigError(f"{path}: not a numeric CSV ({e})") from None


def load_dataset(data: dict):
    """The dataset the ``[data]`` table names, as a Dataset."""
    from axonic.data import datasets

    name, args = data["dataset"], dict(data["args"])
    if name == "csv":
        return _call("data.args (csv)", datasets.CSVDataset, args)
    if name == "npz":
        return _call("data.args (npz)", datasets.NPZDataset, args)
    if name == "timeseries":
        if "synthetic" in args:
            keys = ("synthetic", "length", "noise", "period", "seed")
            series = _call("data.args (timeseries)", _synthetic,
                           {("kind" if k == "synthetic" else k): args.pop(k) for k in keys
                            if k in args})
        elif "path" in args:
            series = _read_series(args.pop("path"))
        else:
            raise ConfigError("data.args (timeseries): needs path = \"...\" (.npy or .csv) "
                              "or synthetic = \"sine\"")
        return _call("data.args (timeseries)", lambda window, horizon=1, stride=1:
                     datasets.SlidingWindowDataset(series, window, horizon, stride), args)
    if name == "text":
        if "text" in args:
            args["source"] = args.pop("text")
        if "path" in args:
            args["path"] = str(args["path"])
        return _call("data.args (text)", datasets.CharCorpus, args)
    if name.lower().replace("-", "_") not in datasets.REGISTRY:
        known = sorted(datasets.REGISTRY) + ["csv", "npz", "text", "timeseries"]
        raise ConfigError(f"data.dataset: unknown dataset {name!r}.{_closest(name, known)} "
                          f"Known: {', '.join(known)}")
    factory = datasets.REGISTRY[name.lower().replace("-", "_")]
    return _call(f"data.args ({name})", factory, args)


def as_arrays(ds) -> tuple[np.ndarray, np.ndarray]:
    """Every sample of ``ds`` as ``(X, y)`` NumPy arrays."""
    idx = np.arange(len(ds))
    if hasattr(ds, "get_batch"):
        batch = ds.get_batch(idx)
    else:
        from axonic.data import default_collate

        batch = default_collate([ds[int(i)] for i in idx])
    x, y = batch[0], batch[1]
    return np.asarray(x.numpy()), np.asarray(y.numpy())


def _split_indices(n: int, y, fractions, seed: int, stratify: bool, ordered: bool):
    """Index arrays (None for an empty piece) from ``axonic.data``'s one implementation of
    each split: time-ordered windows, stratified by class, or random."""
    from axonic.backend.random import Generator
    from axonic.data import random_split, stratified_split, time_series_split

    try:
        if ordered:  # time series: earlier windows train, later ones validate and test
            parts = time_series_split(n, fractions)
        elif stratify:
            parts = stratified_split(np.asarray(y).reshape(-1), fractions, seed=seed)
        else:
            parts = random_split(n, fractions, generator=Generator().manual_seed(seed))
    except ValueError as e:
        raise ConfigError(f"data.splits: {e}") from None
    return [p if len(p) else None for p in parts]


def build_splits(cfg: dict) -> Splits:
    """Load, split and transform the data of ``cfg['data']``."""
    data = cfg["data"]
    ds = load_dataset(data)
    X, y = as_arrays(ds)
    if data["target"] == "last":
        if y.ndim < 2:
            raise ConfigError(f"data.target = 'last' needs sequence targets (N, T, ...), the "
                              f"targets have shape {y.shape}")
        y = y[:, -1]
    classify = is_classification(cfg)
    ordered = data["dataset"] == "timeseries"
    stratify = data["stratify"] and classify and y.ndim == 1 and not ordered
    parts = _split_indices(len(X), y, data["splits"], cfg["seed"], stratify, ordered)
    train, val, test = [None if p is None else (X[p], y[p]) for p in parts]
    out = Splits(train, val, test, tuple(X.shape[1:]), str(X.dtype),
                 getattr(ds, "classes", None))
    augment = []
    for i, t in enumerate(data["transforms"]):
        kind = t["type"]
        if kind == "Standardize":
            extra = set(t) - {"type", "eps"}
            if extra:
                raise ConfigError(f"data.transforms[{i}] (Standardize): unknown key(s) "
                                  f"{sorted(extra)}; allowed: eps")
            mean = train[0].mean(axis=0)
            std = train[0].std(axis=0) + float(t.get("eps", 1e-8))
            out.preprocess["standardize"] = {"mean": mean.tolist(), "std": std.tolist()}
            out.train, out.val, out.test = [
                None if s is None else (standardize(s[0], out.preprocess), s[1])
                for s in (out.train, out.val, out.test)]
        else:
            from axonic.cli.builders import build_from_table
            from axonic.data import transforms

            types = {k: v for k, v in vars(transforms).items() if inspect.isclass(v)
                     and issubclass(v, transforms.Transform) and k != "Transform"}
            types["Standardize"] = None
            augment.append(build_from_table(f"data.transforms[{i}]", t, types, "transform"))
    if augment:
        from axonic.data.transforms import Compose

        out.train_transform = Compose(augment) if len(augment) > 1 else augment[0]
    return out


def standardize(X: np.ndarray, preprocess: dict) -> np.ndarray:
    """Apply the training set's mean and std recorded in ``preprocess`` (if any)."""
    st = preprocess.get("standardize")
    if not st:
        return X
    mean = np.asarray(st["mean"], dtype=X.dtype)
    std = np.asarray(st["std"], dtype=X.dtype)
    return ((X - mean) / std).astype(X.dtype)

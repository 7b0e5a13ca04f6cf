"""``CSVDataset``: a table of numeric and categorical columns as tensors.

Numeric columns become float32 features as they are. Categorical columns are one-hot
encoded (``encoding='onehot'``, one 0/1 column per category, named ``col=value``) or
replaced by their category index (``encoding='index'``, one column of codes 0..K-1),
with scikit-learn's ``OneHotEncoder`` / ``OrdinalEncoder``. The fitted encoders and
imputer are kept, and ``reference=train_ds`` reuses them for a test file so both get
the same columns.
"""

from __future__ import annotations

import csv
import numbers

import numpy as np

from axonic.data.dataset import TensorDataset

MISSING = ("", "na", "n/a", "nan", "null", "none", "?")


def _to_float(values):
    try:
        return np.asarray(values, dtype=np.float64), None
    except ValueError:
        for v in values:
            try:
                float(v)
            except ValueError:
                return None, str(v)
    return None, None


class CSVDataset(TensorDataset):
    """Features and target read from a CSV file.

    - ``target``: the target column(s), by name or index (default: the last column).
    - ``categorical``: ``'auto'`` (every non-numeric feature column), a list of columns
      (names or indices; numeric codes may be listed too) or ``None`` (numbers only).
    - ``encoding``: ``'onehot'`` or ``'index'`` for categorical features.
    - ``na``: what to do with missing cells (empty, NA, NaN, null, ?): ``'error'``,
      ``'drop'`` the rows, or ``'mean'`` (numeric features take the column mean and
      categorical ones the most frequent value, via ``SimpleImputer``).
    - ``target_type``: ``'auto'`` (text or categorical -> class indices with
      ``.classes``; whole numbers -> int64 as they are; else float32 ``(N, k)``),
      ``'class'`` or ``'float'``.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w").write("size,color,label\\n1.5,red,yes\\n2.0,blue,no\\n0.5,red,yes\\n")
    >>> ds = CSVDataset(p, target="label")
    >>> ds.feature_names, ds.classes, ds.tensors[1].tolist()
    (['size', 'color=blue', 'color=red'], ['no', 'yes'], [1, 0, 1])
    """

    def __init__(self, path, target=-1, categorical="auto", encoding="onehot", na="error",
                 delimiter=",", header=True, features=None, target_type="auto",
                 reference=None, transform=None):
        if encoding not in ("onehot", "index"):
            raise ValueError(f"CSVDataset: encoding must be 'onehot' or 'index', got "
                             f"{encoding!r}")
        if na not in ("error", "drop", "mean"):
            raise ValueError(f"CSVDataset: na must be 'error', 'drop' or 'mean', got {na!r}")
        if target_type not in ("auto", "class", "float"):
            raise ValueError(f"CSVDataset: target_type must be 'auto', 'class' or 'float', "
                             f"got {target_type!r}")
        self.path = str(path)
        names, rows = self._read(path, delimiter, header)
        self.columns = names
        targets = [self._col(t, names) for t in (target if isinstance(target, list | tuple)
                                                 else [target])]
        feats = ([self._col(f, names) for f in features] if features is not None
                 else [i for i in range(len(names)) if i not in targets])
        cells = np.asarray(rows, dtype=object).reshape(len(rows), len(names))
        cells = np.vectorize(lambda s: s.strip(), otypes=[object])(cells) if cells.size else cells
        missing = np.isin(np.char.lower(cells.astype(str)), MISSING) if cells.size else \
            np.zeros(cells.shape, bool)

        numeric, self._first_bad = {}, {}
        for i in feats + targets:
            values, self._first_bad[i] = _to_float(cells[~missing[:, i], i].astype(str))
            numeric[i] = values is not None
        cat = self._categorical(categorical, names, feats, numeric, reference)

        used = feats + targets
        holes = {names[i]: int(missing[:, i].sum()) for i in used if missing[:, i].any()}
        keep = np.ones(len(rows), bool)
        if holes and na == "error":
            listed = ", ".join(f"{c!r} ({k} row{'s' if k > 1 else ''})" for c, k in holes.items())
            raise ValueError(
                f"CSVDataset: {self.path} has missing values in column(s) {listed}; pass "
                "na='drop' to drop those rows or na='mean' to fill them, or impute them "
                "beforehand (sklearn.impute.SimpleImputer)"
            )
        if na == "drop":
            keep = ~missing[:, used].any(axis=1)
        elif any(missing[:, t].any() for t in targets):
            raise ValueError(f"CSVDataset: target column(s) {[names[t] for t in targets]} have "
                             "missing values, which can't be imputed; use na='drop'")
        cells, missing = cells[keep], missing[keep]
        self.dropped_rows = int((~keep).sum())

        x, self.feature_names = self._features(cells, missing, names, feats, cat, encoding,
                                               reference)
        y = self._target(cells, names, targets, cat, numeric, target_type, reference)
        super().__init__(x, y, transform=transform)
        self.targets = self.tensors[1]
        self.categorical_columns = [names[i] for i in feats if i in cat]
        self.encoding = encoding

    # --- reading and column lookup ---------------------------------------------------------
    @staticmethod
    def _read(path, delimiter, header):
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: drop a BOM
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r]
        if not rows:
            raise ValueError(f"CSVDataset: {path} is empty")
        names = [c.strip() for c in rows[0]] if header else [f"col{i}" for i in
                                                             range(len(rows[0]))]
        body = rows[1:] if header else rows
        for n, r in enumerate(body):
            if len(r) != len(names):
                raise ValueError(f"CSVDataset: line {n + 1 + bool(header)} of {path} has "
                                 f"{len(r)} fields, expected {len(names)} ({names})")
        if not body:
            raise ValueError(f"CSVDataset: {path} has a header but no rows")
        return names, body

    def _col(self, key, names) -> int:
        if isinstance(key, str):
            if key not in names:
                raise KeyError(f"CSVDataset: no column {key!r} in {self.path}; columns are "
                               f"{names}")
            return names.index(key)
        if isinstance(key, numbers.Integral) and -len(names) <= key < len(names):
            return int(key) % len(names)
        raise KeyError(f"CSVDataset: column {key!r} is neither a name nor an index in "
                       f"[-{len(names)}, {len(names) - 1}]; columns are {names}")

    def _categorical(self, categorical, names, feats, numeric, reference) -> set:
        if reference is not None:
            return {names.index(c) for c in reference.categorical_columns} | {
                names.index(c) for c in getattr(reference, "_categorical_targets", [])}
        if categorical == "auto":
            cat = {i for i in feats if not numeric[i]}
        elif categorical is None:
            cat = set()
        elif isinstance(categorical, list | tuple):
            cat = {self._col(c, names) for c in categorical}
        else:
            raise ValueError(f"CSVDataset: categorical must be 'auto', None or a list of "
                             f"columns, got {categorical!r}")
        for i in feats:
            if not numeric[i] and i not in cat:
                raise ValueError(
                    f"CSVDataset: column {names[i]!r} is not numeric (e.g. value "
                    f"{self._first_bad[i]!r}); declare it categorical=[{names[i]!r}] "
                    "(or categorical='auto') or drop it with features=[...]"
                )
        return cat

    # --- encoding --------------------------------------------------------------------------
    def _features(self, cells, missing, names, feats, cat, encoding, reference):
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

        self.encoders = {} if reference is None else reference.encoders
        self.imputers = {} if reference is None else reference.imputers
        blocks, out_names = [], []
        for i in feats:
            name = names[i]
            if i in cat:
                col = cells[:, i].astype(str).reshape(-1, 1).astype(object)
                col[missing[:, i]] = np.nan
            else:
                col = np.where(missing[:, i], "nan", cells[:, i]).astype(np.float64)[:, None]
            if missing[:, i].any() or name in self.imputers:
                imp = self.imputers.get(name) or SimpleImputer(
                    strategy="most_frequent" if i in cat else "mean").fit(col)
                self.imputers[name] = imp
                col = imp.transform(col)
            if i not in cat:
                blocks.append(col.astype(np.float32))
                out_names.append(name)
                continue
            enc = self.encoders.get(name)
            if enc is None:
                enc = (OneHotEncoder(sparse_output=False, dtype=np.float32) if encoding ==
                       "onehot" else OrdinalEncoder(dtype=np.float32)).fit(col)
                self.encoders[name] = enc
            try:
                blocks.append(enc.transform(col).astype(np.float32))
            except ValueError as e:
                raise ValueError(f"CSVDataset: column {name!r} of {self.path}: {e}") from None
            if isinstance(enc, OneHotEncoder):
                out_names += [f"{name}={c}" for c in enc.categories_[0]]
            else:
                out_names.append(name)
        x = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(cells), 0), np.float32)
        return x, out_names

    def _target(self, cells, names, targets, cat, numeric, target_type, reference):
        from sklearn.preprocessing import LabelEncoder

        self.classes = None
        as_class = target_type == "class" or (target_type == "auto" and any(
            t in cat or not numeric[t] for t in targets))
        if not as_class and not all(numeric[t] for t in targets):
            bad = [names[t] for t in targets if not numeric[t]]
            raise ValueError(f"CSVDataset: target column(s) {bad} are not numeric; use "
                             "target_type='class' (or 'auto')")
        if as_class:
            if len(targets) != 1:
                raise ValueError("CSVDataset: a class target must be one column, got "
                                 f"{[names[t] for t in targets]}")
            self._categorical_targets = [names[targets[0]]]
            col = cells[:, targets[0]].astype(str)
            enc = getattr(reference, "label_encoder", None) or LabelEncoder().fit(col)
            self.label_encoder = enc
            self.classes = [str(c) for c in enc.classes_]
            try:
                return enc.transform(col).astype(np.int64)
            except ValueError as e:
                raise ValueError(f"CSVDataset: target {names[targets[0]]!r}: {e}") from None
        y = cells[:, targets].astype(np.float64)
        if target_type == "auto" and len(targets) == 1 and np.array_equal(y, np.round(y)):
            return y[:, 0].astype(np.int64)
        return y.astype(np.float32)

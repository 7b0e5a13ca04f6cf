"""Metrics: streamed cheaply during training, computed by scikit-learn at evaluation.

Streaming metrics (``Mean``, ``Accuracy``, ``MeanAbsoluteError``, ``MeanSquaredError``,
``RootMeanSquaredError``) keep float64 running sums, so an epoch's value costs nothing to
track and is the same however the data were batched. The others (``Precision``, ``Recall``,
``F1Score``, ``ROCAUC``, ``R2Score``) keep the epoch's predictions and ask scikit-learn at
the end. ``classification_report`` / ``regression_report`` compute everything at once.

Model outputs are read the way the losses read them: ``(N, C)`` with ``C > 1`` are class
scores (logits or probabilities; the label is the argmax); ``(N,)`` or ``(N, 1)`` for a
classification metric are binary scores, thresholded at 0 when ``from_logits=True``
(the default, for ``BCEWithLogitsLoss``) and at 0.5 otherwise.

>>> import numpy as np
>>> acc = Accuracy()
>>> acc.update(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
>>> acc.update(np.array([[0.0, 1.0]]), np.array([1]))
>>> round(acc.result(), 4)
0.6667
"""

from __future__ import annotations

import difflib
import math

import numpy as np


def _np(x) -> np.ndarray:
    """A NumPy array from a Tensor, a CuPy array or anything array-like."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        return x.detach().cpu().numpy() if hasattr(x, "detach") else x.numpy()
    if hasattr(x, "get") and not isinstance(x, np.ndarray):  # a CuPy array
        return x.get()
    return np.asarray(x)


def _is_scores(output: np.ndarray) -> bool:
    return output.ndim == 2 and output.shape[1] > 1


def predicted_labels(output, threshold: float = 0.0) -> np.ndarray:
    """Class labels from model outputs: argmax over classes, or ``output > threshold``."""
    output = _np(output)
    if _is_scores(output):
        return output.argmax(axis=1)
    return (output.reshape(len(output)) > threshold).astype(np.int64)


def _labels(target) -> np.ndarray:
    target = _np(target)
    return target.reshape(len(target)).astype(np.int64)


def _aligned(output, target) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and targets as float64 arrays of one shape (``(N, 1)`` meets ``(N,)``)."""
    output, target = _np(output).astype(np.float64), _np(target).astype(np.float64)
    if output.shape != target.shape and output.size == target.size:
        target = target.reshape(output.shape)
    if output.shape != target.shape:
        raise ValueError(f"regression metric: output shape {output.shape} does not match "
                         f"target shape {target.shape}")
    return output, target


class Metric:
    """A value accumulated over the batches of one epoch.

    Subclasses implement ``update(output, target)`` and ``result()``; their state is plain
    data (``state_dict``) so a checkpoint taken mid-epoch resumes the sums exactly.
    """

    name = "metric"
    streaming = True

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, output, target) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class _Sums(Metric):
    """A weighted running mean: ``total / count`` with float64 Python sums."""

    def __init__(self, name: str):
        self.name = name
        self.reset()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def result(self) -> float:
        return self.total / self.count if self.count else math.nan


class Mean(_Sums):
    """The mean of values given with weights, e.g. the batch loss weighted by batch size."""

    def __init__(self, name: str = "loss"):
        super().__init__(name)

    def update(self, value, weight: int = 1) -> None:
        self.total += float(value) * weight
        self.count += int(weight)


class Accuracy(_Sums):
    """The fraction of correct labels (argmax for class scores, a threshold for binary)."""

    def __init__(self, name: str = "accuracy", from_logits: bool = True):
        self.threshold = 0.0 if from_logits else 0.5
        super().__init__(name)

    def update(self, output, target) -> None:
        pred, true = predicted_labels(output, self.threshold), _labels(target)
        self.total += float((pred == true).sum())
        self.count += len(true)


class MeanAbsoluteError(_Sums):
    """Mean of ``|output - target|`` over every element."""

    def __init__(self, name: str = "mae"):
        super().__init__(name)

    def update(self, output, target) -> None:
        out, tgt = _aligned(output, target)
        self.total += float(np.abs(out - tgt).sum())
        self.count += out.size


class MeanSquaredError(_Sums):
    """Mean of ``(output - target)^2`` over every element."""

    def __init__(self, name: str = "mse"):
        super().__init__(name)

    def update(self, output, target) -> None:
        out, tgt = _aligned(output, target)
        self.total += float(np.square(out - tgt).sum())
        self.count += out.size


class RootMeanSquaredError(MeanSquaredError):
    """The square root of the epoch's mean squared error."""

    def __init__(self, name: str = "rmse"):
        super().__init__(name)

    def result(self) -> float:
        return math.sqrt(super().result()) if self.count else math.nan


class _Collected(Metric):
    """Keeps the epoch's outputs and targets and computes the value with scikit-learn."""

    streaming = False

    def __init__(self, name: str):
        self.name = name
        self.reset()

    def reset(self) -> None:
        self.outputs: list = []
        self.targets: list = []

    def update(self, output, target) -> None:
        self.outputs.append(_np(output).astype(np.float64))
        self.targets.append(_np(target))

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.outputs), np.concatenate(self.targets)

    def state_dict(self) -> dict:
        return {"outputs": [o.tolist() for o in self.outputs],
                "targets": [t.tolist() for t in self.targets]}

    def load_state_dict(self, state: dict) -> None:
        self.outputs = [np.asarray(o, dtype=np.float64) for o in state["outputs"]]
        self.targets = [np.asarray(t) for t in state["targets"]]

    def result(self) -> float:
        if not self.outputs:
            return math.nan
        output, target = self._arrays()
        return float(self.compute(output, target))


class _PRF(_Collected):
    fn = "f1_score"

    def __init__(self, name: str, average: str = "macro", from_logits: bool = True):
        if average not in ("binary", "macro", "weighted", "micro"):
            raise ValueError(f"{type(self).__name__}: average must be 'binary', 'macro', "
                             f"'weighted' or 'micro', got {average!r}")
        self.average = average
        self.threshold = 0.0 if from_logits else 0.5
        super().__init__(name)

    def compute(self, output, target):
        import sklearn.metrics as skm

        fn = getattr(skm, self.fn)
        return fn(_labels(target), predicted_labels(output, self.threshold),
                  average=self.average, zero_division=0)


class Precision(_PRF):
    """Precision (``average`` = 'binary', 'macro', 'weighted' or 'micro'), by scikit-learn."""

    fn = "precision_score"

    def __init__(self, name: str = "precision", average: str = "macro", from_logits=True):
        super().__init__(name, average, from_logits)


class Recall(_PRF):
    """Recall (``average`` = 'binary', 'macro', 'weighted' or 'micro'), by scikit-learn."""

    fn = "recall_score"

    def __init__(self, name: str = "recall", average: str = "macro", from_logits=True):
        super().__init__(name, average, from_logits)


class F1Score(_PRF):
    """F1 (``average`` = 'binary', 'macro', 'weighted' or 'micro'), by scikit-learn."""

    fn = "f1_score"

    def __init__(self, name: str = "f1", average: str = "macro", from_logits=True):
        super().__init__(name, average, from_logits)


class ROCAUC(_Collected):
    """Area under the ROC curve: binary scores, or one-vs-rest over softmax probabilities.

    NaN when some class never appears in the epoch's targets (the AUC is undefined then).
    """

    def __init__(self, name: str = "roc_auc"):
        super().__init__(name)

    def compute(self, output, target):
        n_classes = output.shape[1] if _is_scores(output) else 2
        if len(np.unique(_labels(target))) < n_classes:
            return math.nan
        return roc_auc(target, output)


class R2Score(_Collected):
    """The coefficient of determination, by scikit-learn."""

    def __init__(self, name: str = "r2"):
        super().__init__(name)

    def compute(self, output, target):
        from sklearn.metrics import r2_score

        out, tgt = _aligned(output, target)
        return r2_score(tgt, out)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def roc_auc(target, output) -> float:
    """ROC-AUC of binary scores, or macro one-vs-rest AUC of softmax(class scores)."""
    from sklearn.metrics import roc_auc_score

    output = _np(output).astype(np.float64)
    if _is_scores(output):
        probs = output if _looks_like_probs(output) else _softmax(output)
        if probs.shape[1] == 2:
            return float(roc_auc_score(_labels(target), probs[:, 1]))
        return float(roc_auc_score(_labels(target), probs, multi_class="ovr",
                                   labels=list(range(probs.shape[1]))))
    return float(roc_auc_score(_labels(target), output.reshape(len(output))))


def _looks_like_probs(p: np.ndarray) -> bool:
    return bool((p >= 0).all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-5))


_METRICS = {
    "accuracy": Accuracy, "acc": Accuracy,
    "mae": MeanAbsoluteError, "mse": MeanSquaredError, "rmse": RootMeanSquaredError,
    "precision": Precision, "recall": Recall, "f1": F1Score,
    "roc_auc": ROCAUC, "auc": ROCAUC, "r2": R2Score,
}
_AVERAGED = {"precision": Precision, "recall": Recall, "f1": F1Score}


def get_metric(spec) -> Metric:
    """A metric from its name ('accuracy', 'f1_weighted', 'rmse', ...) or a ``Metric``.

    >>> get_metric("f1_weighted").average
    'weighted'
    """
    if isinstance(spec, Metric):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"metrics: expected a metric name or a Metric, got {spec!r}")
    for base, cls in _AVERAGED.items():
        for avg in ("binary", "macro", "weighted", "micro"):
            if spec == f"{base}_{avg}":
                return cls(name=spec, average=avg)
    if spec in _METRICS:
        return _METRICS[spec](name=spec)
    names = sorted(_METRICS) + [f"{b}_{a}" for b in _AVERAGED
                                for a in ("binary", "macro", "weighted", "micro")]
    close = difflib.get_close_matches(spec, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown metric {spec!r}.{hint} Known: {', '.join(names)}")


def classification_report(target, output, threshold: float = 0.0) -> dict:
    """Every classification metric of ``output`` (class scores or binary scores), by sklearn.

    Returns accuracy; precision, recall and F1 (macro and weighted, and binary for two
    classes); ROC-AUC when every class appears in ``target``; and the confusion matrix as a
    list of lists (rows: true class, columns: predicted).

    >>> import numpy as np
    >>> r = classification_report(np.array([0, 1, 1]), np.array([[2., 0.], [0., 1.], [3., 0.]]))
    >>> r["accuracy"], r["confusion_matrix"]
    (0.6666666666666666, [[1, 0], [1, 1]])
    """
    import sklearn.metrics as skm

    output = _np(output)
    true = _labels(target)
    pred = predicted_labels(output, threshold)
    n_classes = output.shape[1] if _is_scores(output) else 2
    labels = list(range(n_classes))
    out = {"accuracy": float(skm.accuracy_score(true, pred))}
    averages = ["macro", "weighted"] + (["binary"] if n_classes == 2 else [])
    for avg in averages:
        suffix = "" if avg == "binary" else f"_{avg}"
        kw = {"labels": labels} if avg != "binary" else {}
        out["precision" + suffix] = float(skm.precision_score(true, pred, average=avg,
                                                              zero_division=0, **kw))
        out["recall" + suffix] = float(skm.recall_score(true, pred, average=avg,
                                                        zero_division=0, **kw))
        out["f1" + suffix] = float(skm.f1_score(true, pred, average=avg, zero_division=0, **kw))
    if len(np.unique(true)) == n_classes:
        out["roc_auc"] = roc_auc(true, output)
    out["confusion_matrix"] = skm.confusion_matrix(true, pred, labels=labels).tolist()
    return out


def regression_report(target, output) -> dict:
    """MAE, MSE, RMSE and R2 of ``output`` against ``target``, by scikit-learn.

    >>> import numpy as np
    >>> regression_report(np.array([1.0, 2.0]), np.array([1.0, 4.0]))["mae"]
    1.0
    """
    import sklearn.metrics as skm

    out, tgt = _aligned(output, target)
    mse = float(skm.mean_squared_error(tgt, out))
    return {"mae": float(skm.mean_absolute_error(tgt, out)), "mse": mse,
            "rmse": math.sqrt(mse), "r2": float(skm.r2_score(tgt, out))}


def format_confusion_matrix(matrix) -> str:
    """A confusion matrix as aligned text, true classes down, predicted across."""
    m = np.asarray(matrix)
    width = max(len(str(m.max())), len(str(m.shape[0] - 1)), 3) + 1
    head = " " * 6 + "".join(f"{j:>{width}}" for j in range(m.shape[1]))
    rows = [f"{i:>4}: " + "".join(f"{v:>{width}}" for v in row) for i, row in enumerate(m)]
    return "true \\ predicted\n" + head + "\n" + "\n".join(rows)

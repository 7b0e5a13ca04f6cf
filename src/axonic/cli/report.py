"""What the command prints about predictions: class probabilities from a model's outputs,
and a confusion matrix whose rows and columns carry the class names.

>>> print(confusion_text([[2, 0], [1, 3]], ["cat", "dog"]))
true \\ predicted
      cat dog
cat:    2   0
dog:    1   3
"""

from __future__ import annotations

import numpy as np


def confusion_text(matrix, classes=None) -> str:
    """The confusion matrix as text, rows and columns named by the class names."""
    m = np.asarray(matrix)
    names = [str(c) for c in classes] if classes and len(classes) == len(m) else [
        str(i) for i in range(len(m))]
    width = max(max(len(n) for n in names), len(str(m.max())), 3) + 1
    left = max(len(n) for n in names) + 2
    head = " " * left + "".join(f"{n:>{width}}" for n in names)
    rows = [f"{n:>{left - 2}}: " + "".join(f"{v:>{width}}" for v in row)
            for n, row in zip(names, m)]
    return "true \\ predicted\n" + head + "\n" + "\n".join(rows)


def probabilities(cfg, out: np.ndarray) -> np.ndarray:
    """Class probabilities from the model's outputs, by the loss it was trained with."""
    loss = cfg["loss"]["type"]
    out = out.reshape(len(out), -1).astype(np.float64)
    if loss == "NLLLoss":  # the model ends in LogSoftmax
        return np.exp(out)
    if loss in ("BCELoss", "BCEWithLogitsLoss"):
        p = out if loss == "BCELoss" else 1 / (1 + np.exp(-out))
        return np.concatenate([1 - p, p], axis=1) if p.shape[1] == 1 else p
    e = np.exp(out - out.max(axis=1, keepdims=True))  # CrossEntropyLoss: logits
    return e / e.sum(axis=1, keepdims=True)

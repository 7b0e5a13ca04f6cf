"""Rosenblatt's perceptron (1957): a linear threshold unit and its error-correction rule."""

from __future__ import annotations

import numpy as np

from axonic.autograd.tensor import Tensor, _make
from axonic.backend import to_numpy
from axonic.nn.module import Module
from axonic.nn.parameter import Parameter


class Perceptron(Module):
    r"""A single threshold unit, :math:`\hat y = [\,w \cdot x + b > 0\,]`, trained by
    Rosenblatt's rule, one sample at a time:

    .. math::
        w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y)

    The weights start at zero. ``weight`` has shape ``(1, in_features)`` and ``bias``
    ``(1,)``, as in ``nn.Linear(in_features, 1)``. It learns any linearly separable set
    of 0/1 labels in finitely many updates (the perceptron convergence theorem), and
    cannot learn XOR, which no line separates.

    >>> import axonic
    >>> from axonic.models import Perceptron
    >>> X = [[0, 0], [0, 1], [1, 0], [1, 1]]
    >>> p = Perceptron(2).fit(X, [0, 0, 0, 1], epochs=20)
    >>> p.predict(X).tolist()
    [0, 0, 0, 1]
    """

    def __init__(self, in_features: int, dtype=None):
        super().__init__()
        if not isinstance(in_features, int) or in_features <= 0:
            raise ValueError(f"Perceptron: in_features must be a positive int, got "
                             f"{in_features!r}")
        from axonic.backend import resolve_dtype

        dt = resolve_dtype(dtype)
        self.in_features = in_features
        self.weight = Parameter(_make(np.zeros((1, in_features), dt)))
        self.bias = Parameter(_make(np.zeros(1, dt)))
        self.errors_: list[int] = []

    def _inputs(self, X) -> np.ndarray:
        a = to_numpy(X._data) if isinstance(X, Tensor) else np.asarray(X)
        if a.ndim != 2 or a.shape[1] != self.in_features:
            raise self.input_error(
                f"expected inputs of shape (N, {self.in_features}), got shape {tuple(a.shape)}")
        return a.astype(self.weight.dtype, copy=False)

    def _labels(self, y, n: int) -> np.ndarray:
        a = to_numpy(y._data) if isinstance(y, Tensor) else np.asarray(y)
        a = a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a
        if a.shape != (n,):
            raise self.input_error(f"expected {n} labels (one per row of X), got shape "
                                   f"{tuple(a.shape)}")
        if not np.isin(a, (0, 1)).all():
            bad = sorted({float(v) for v in np.unique(a)} - {0.0, 1.0})[:5]
            raise self.input_error(f"labels must be 0 or 1, got {bad}")
        return a.astype(self.weight.dtype)

    def forward(self, x: Tensor) -> Tensor:
        """The unit's output, 0.0 or 1.0, for each row of ``x`` (shape ``(N, 1)``)."""
        a = self._inputs(x)
        z = a @ self.weight._data.T + self.bias._data
        return _make((z > 0).astype(self.weight.dtype))

    def predict(self, X) -> Tensor:
        """The predicted labels (int64 0/1) for the rows of ``X``."""
        a = self._inputs(X)
        z = a @ self.weight._data[0] + self.bias._data[0]
        return _make((z > 0).astype(np.int64))

    def fit(self, X, y, epochs: int = 100, lr: float = 1.0) -> Perceptron:
        """Run Rosenblatt's rule over the samples in order for up to ``epochs`` passes,
        stopping after a pass without mistakes. ``errors_`` records the mistakes of each
        pass. Returns ``self``."""
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"Perceptron.fit: epochs must be a non-negative int, got {epochs!r}")
        if not lr > 0:
            raise ValueError(f"Perceptron.fit: lr must be > 0, got {lr!r}")
        a = self._inputs(X)
        t = self._labels(y, a.shape[0])
        w, b = self.weight._data[0], self.bias._data
        self.errors_ = []
        for _ in range(epochs):
            mistakes = 0
            for xi, yi in zip(a, t):
                y_hat = 1.0 if float(xi @ w + b[0]) > 0 else 0.0
                delta = lr * (float(yi) - y_hat)
                if delta != 0:
                    w += delta * xi
                    b += delta
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                break
        self.weight._vc[0] += 1
        self.bias._vc[0] += 1
        return self

    def score(self, X, y) -> float:
        """The fraction of rows of ``X`` whose label is predicted correctly."""
        a = self._inputs(X)
        t = self._labels(y, a.shape[0])
        return float((self.predict(a)._data == t).mean())

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}"

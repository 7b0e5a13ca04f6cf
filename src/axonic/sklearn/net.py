"""``NeuralNet`` and its classifier and regressor: scikit-learn estimators that train an
axonic module with the ``Trainer`` (see ``axonic.sklearn`` for the parameters).

>>> import numpy as np
>>> X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
>>> reg = NeuralNetRegressor(max_epochs=50, lr=0.05, optimizer__momentum=0.9, random_state=0)
>>> reg.fit(X, X.sum(1)).predict(X).shape
(50,)
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - the message is the interface
    raise ImportError("axonic.sklearn needs scikit-learn: pip install 'axonic[sklearn]'") \
        from None

import axonic
from axonic import nn, optim
from axonic.sklearn.module import MLPModule

PREFIXES = ("module__", "optimizer__", "criterion__")


class NeuralNet(BaseEstimator):
    """The shared estimator: builds ``module_``, ``criterion_`` and ``optimizer_`` at the
    first ``fit`` and trains them for ``max_epochs`` epochs with ``axonic.train.Trainer``.

    ``train_split``: None (train on everything), a fraction held out for validation
    (``val_loss`` and metrics then appear in ``history_``), or a callable
    ``(X, y) -> (X_train, y_train, X_valid, y_valid)``. ``callbacks``: axonic
    ``Callback`` objects. ``warm_start=True`` keeps training the fitted module on the next
    ``fit``; ``partial_fit`` always does. ``random_state`` seeds the initialisation, the
    shuffle order and dropout, so two fits with the same value give the same model.
    """

    _default_criterion = None

    def __init__(self, module=MLPModule, criterion=None, optimizer=optim.SGD, lr=0.01,
                 max_epochs=10, batch_size=128, train_split=None, callbacks=None,
                 device="cpu", warm_start=False, verbose=0, random_state=None, **kwargs):
        self.module = module
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.train_split = train_split
        self.callbacks = callbacks
        self.device = device
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        for key, value in kwargs.items():  # checked in fit (scikit-learn's convention)
            setattr(self, key, value)

    # --- parameters: the constructor's plus the routed module__/optimizer__/criterion__ ---
    def _routed(self) -> dict:
        """The keyword arguments beyond the constructor's named ones."""
        named = self._get_param_names()
        return {k: v for k, v in vars(self).items()
                if k not in named and not k.startswith("_") and not k.endswith("_")}

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._routed())
        return params

    def set_params(self, **params):
        for key in [k for k in params if k.startswith(PREFIXES)]:  # new routed keys too
            setattr(self, key, params.pop(key))
        return super().set_params(**params) if params else self

    def _prefixed(self, prefix: str) -> dict:
        return {k[len(prefix):]: v for k, v in self._routed().items() if k.startswith(prefix)}

    # --- building ------------------------------------------------------------------------
    def _check_params(self) -> None:
        who = type(self).__name__
        unknown = [k for k in self._routed() if not k.startswith(PREFIXES)]
        if unknown:
            raise TypeError(f"{who}: unexpected argument(s) {', '.join(unknown)}; extra "
                            f"arguments must start with {', '.join(PREFIXES)}")
        for name, low in (("max_epochs", 0), ("batch_size", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
                raise ValueError(f"{who}: {name} must be an integer >= {low}, got {v!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float) or self.lr < 0:
            raise ValueError(f"{who}: lr must be a number >= 0, got {self.lr!r}")
        split = self.train_split
        if not (split is None or callable(split)
                or (isinstance(split, float) and 0 < split < 1)):
            raise ValueError(f"{who}: train_split must be None, a fraction in (0, 1) or a "
                             f"callable (X, y) -> (X_train, y_train, X_valid, y_valid), "
                             f"got {split!r}")

    def _build(self, what: str, factory, given: dict, where: str):
        try:
            return factory(**given)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{type(self).__name__}: could not build the {what} {where} with "
                          f"{given}: {e}") from None

    def _initialize(self, in_features: int, out_features: int) -> None:
        """Build ``module_``, ``criterion_`` and ``optimizer_`` for this data's widths."""
        if self.random_state is not None:
            axonic.manual_seed(int(self.random_state))
        kwargs = self._prefixed("module__")
        if isinstance(self.module, nn.Module):
            self.module_ = copy.deepcopy(self.module)
        else:
            if not callable(self.module):
                raise TypeError(f"{type(self).__name__}: module must be an axonic nn.Module "
                                f"class or instance, got {self.module!r}")
            params = inspect.signature(self.module).parameters
            any_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
            for name, value in (("in_features", in_features), ("out_features", out_features)):
                if name in params or any_kw:
                    kwargs.setdefault(name, value)
            self.module_ = self._build("module", self.module, kwargs,
                                       getattr(self.module, "__name__", ""))
        self.module_.to(self.device)
        crit = self.criterion if self.criterion is not None else self._default_criterion
        self.criterion_ = crit if isinstance(crit, nn.Module) else self._build(
            "criterion", crit, self._prefixed("criterion__"), getattr(crit, "__name__", ""))
        opt_kwargs = {"lr": self.lr, **self._prefixed("optimizer__")}
        self.optimizer_ = self._build(
            "optimizer", lambda **kw: self.optimizer(self.module_.parameters(), **kw),
            opt_kwargs, getattr(self.optimizer, "__name__", ""))
        self.history_ = []

    # --- training ------------------------------------------------------------------------
    def _train(self, X: np.ndarray, y: np.ndarray):
        from axonic.train import Trainer

        validation, split = None, None
        if callable(self.train_split):
            X, y, Xv, yv = self.train_split(X, y)
            validation = (Xv, yv)
        elif self.train_split is not None:
            split = float(self.train_split)
        trainer = Trainer(self.module_, self.optimizer_, self.criterion_,
                          metrics=self._metrics(), callbacks=list(self.callbacks or ()),
                          device=self.device)
        history = trainer.fit((X, y), validation=validation, validation_split=split,
                              epochs=int(self.max_epochs), batch_size=int(self.batch_size),
                              verbose=self.verbose)
        start = len(self.history_)
        for i, _ in enumerate(history.epoch):
            row = {"epoch": start + i + 1}
            row.update({k: v[i] for k, v in history.history.items()})
            self.history_.append(row)
        return self

    def _metrics(self) -> list:
        return []

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """The module's outputs on ``X`` in eval mode, without gradients, in batches."""
        was = self.module_.training
        self.module_.eval()
        outs = []
        try:
            with axonic.no_grad():
                for i in range(0, len(X), int(self.batch_size)):
                    x = axonic.tensor(X[i:i + int(self.batch_size)])
                    if str(self.device) != "cpu":
                        x = x.to(self.device)
                    out = self.module_(x)
                    outs.append(np.asarray(out.to("cpu").numpy() if str(self.device) != "cpu"
                                           else out.numpy()))
        finally:
            self.module_.train(was)
        return np.concatenate(outs) if outs else np.zeros((0,), np.float32)

    def _validate_fit(self, X, y, reset: bool):
        self._check_params()
        return validate_data(self, X, y, reset=reset, dtype=np.float32,
                             **self._target_options())

    def fit(self, X, y):
        """Initialise the module (unless ``warm_start`` and fitted) and train it for
        ``max_epochs`` epochs; returns self."""
        fitted = hasattr(self, "module_")
        if fitted and self.warm_start:
            return self.partial_fit(X, y)
        X, y = self._validate_fit(X, y, reset=True)
        y = self._prepare_target(y, reset=True)
        self._initialize(X.shape[1], self._out_features())
        return self._train(X, y)

    def partial_fit(self, X, y, classes=None):
        """Train for ``max_epochs`` more epochs without re-initialising (the first call
        initialises); returns self."""
        if not hasattr(self, "module_"):
            X, y = self._validate_fit(X, y, reset=True)
            y = self._prepare_target(y, reset=True, classes=classes)
            self._initialize(X.shape[1], self._out_features())
        else:
            X, y = self._validate_fit(X, y, reset=False)
            y = self._prepare_target(y, reset=False)
        return self._train(X, y)

    def _predict_outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        return self._forward(X)


class NeuralNetClassifier(ClassifierMixin, NeuralNet):
    """Classify with an axonic module that outputs one score (logit) per class; the
    default ``criterion`` is ``nn.CrossEntropyLoss``. Labels may be any values: they are
    kept in ``classes_`` and the module learns their positions.

    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(80, 4)).astype(np.float32)
    >>> y = np.where(X[:, 1] > 0, "up", "down")
    >>> clf = NeuralNetClassifier(max_epochs=40, lr=0.1, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.predict_proba(X[:2]).shape
    (['down', 'up'], (2, 2))
    """

    _default_criterion = nn.CrossEntropyLoss

    def _target_options(self) -> dict:
        return {}

    def _prepare_target(self, y, reset: bool, classes=None) -> np.ndarray:
        check_classification_targets(y)
        if reset:
            self.classes_ = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__}: needs samples of at least 2 classes, "
                                 f"got 1 class ({self.classes_[0]!r})")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"{type(self).__name__}: labels {unknown.tolist()} are not in "
                             f"classes_ {self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _out_features(self) -> int:
        return len(self.classes_)

    def _metrics(self) -> list:
        return ["accuracy"]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities: the softmax of the module's outputs, in ``classes_`` order."""
        z = self._predict_outputs(X).astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """The most likely class of each row (a value of ``classes_``)."""
        scores = self._predict_outputs(X)
        return self.classes_[scores.argmax(axis=1)]


class NeuralNetRegressor(RegressorMixin, NeuralNet):
    """Regress with an axonic module; the default ``criterion`` is ``nn.MSELoss``. A 1-D
    target gives 1-D predictions, an ``(n, k)`` target a module with ``k`` outputs."""

    _default_criterion = nn.MSELoss

    def _target_options(self) -> dict:
        return {"multi_output": True, "y_numeric": True}

    def _prepare_target(self, y, reset: bool, classes=None) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if reset:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            self._target_1d = y.ndim == 1
        elif (1 if y.ndim == 1 else y.shape[1]) != self.n_outputs_:
            raise ValueError(f"{type(self).__name__}: y has {y.shape[1]} outputs, the fitted "
                             f"module has {self.n_outputs_}")
        return y.reshape(len(y), -1)

    def _out_features(self) -> int:
        return self.n_outputs_

    def _metrics(self) -> list:
        return ["mae"]

    def predict(self, X) -> np.ndarray:
        """The module's outputs: shape ``(n,)`` for a 1-D training target, else ``(n, k)``."""
        out = self._predict_outputs(X).astype(np.float64)
        return out.reshape(-1) if self._target_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

"""scikit-learn estimators around axonic modules, with skorch's names and conventions.

``NeuralNetClassifier`` and ``NeuralNetRegressor`` take a ``module`` (a class or an
instance), ``criterion``, ``optimizer``, ``lr``, ``max_epochs``, ``batch_size``,
``train_split``, ``callbacks``, ``device``, ``warm_start`` and ``random_state``;
``module__*``, ``optimizer__*`` and ``criterion__*`` keyword arguments reach the
module's, optimizer's and criterion's constructors. The input width and the number of
classes (or outputs) come from the data and reach the module as ``in_features`` and
``out_features`` unless set. Needs scikit-learn (``pip install 'axonic[sklearn]'``).

>>> import numpy as np
>>> from axonic.sklearn import NeuralNetClassifier
>>> X = np.random.default_rng(0).normal(size=(60, 3)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(int)
>>> net = NeuralNetClassifier(max_epochs=30, lr=0.1, module__hidden=8, random_state=0)
>>> net.fit(X, y).score(X, y) > 0.9
True
"""

from axonic.sklearn.module import MLPModule


def __getattr__(name):
    # the estimators subclass scikit-learn's classes: import them (and it) on first use
    if name in ("NeuralNet", "NeuralNetClassifier", "NeuralNetRegressor"):
        from axonic.sklearn import net

        return getattr(net, name)
    raise AttributeError(f"module 'axonic.sklearn' has no attribute {name!r}")


__all__ = ["MLPModule", "NeuralNet", "NeuralNetClassifier", "NeuralNetRegressor"]

"""Choosing the model: Optuna searches over a config (``run``), cross-validation
(``cross_validate``), architecture search (``[tune.architecture]``) and MLflow tracking
(``MLflowLogger``). Needs ``pip install 'axonic[tune]'`` (Optuna) and, for
cross-validation, scikit-learn.

>>> from axonic.tune import run, cross_validate
"""


def run(config, **kwargs):
    """Run or continue the study of ``config``; see ``axonic.tune.study.run``."""
    from axonic.tune.study import run as _run

    return _run(config, **kwargs)


def cross_validate(config, **kwargs):
    """k-fold cross-validation of ``config``; see ``axonic.tune.cv.cross_validate``."""
    from axonic.tune.cv import cross_validate as _cv

    return _cv(config, **kwargs)


def __getattr__(name):
    if name == "MLflowLogger":
        from axonic.tune.tracking import MLflowLogger

        return MLflowLogger
    raise AttributeError(f"module 'axonic.tune' has no attribute {name!r}")


__all__ = ["run", "cross_validate", "MLflowLogger"]

"""``MLflowLogger``: log a run's parameters, per-epoch metrics and run directory to MLflow,
so tuned and cross-validated runs can be compared in MLflow's UI. Needs
``pip install 'axonic[mlflow]'``.

By default the tracking store is local: a SQLite file ``mlruns/mlflow.db`` with the
artifacts beside it in ``mlruns/artifacts`` (see them with ``mlflow ui
--backend-store-uri sqlite:///mlruns/mlflow.db``); ``tracking_uri`` names another store.

>>> logger = MLflowLogger(experiment="digits", run_name="trial-0", params={"lr": 0.01})
>>> logger.experiment, logger.tracking_uri
('digits', 'sqlite:///mlruns/mlflow.db')
"""

from __future__ import annotations

from pathlib import Path

from axonic.train.callbacks.base import Callback


def _mlflow():
    try:
        import mlflow
    except ImportError:
        raise ImportError("MLflowLogger needs MLflow: pip install 'axonic[mlflow]'") from None
    return mlflow


def flatten(cfg, prefix: str = "") -> dict:
    """``{"optimizer.lr": 0.01, "model.layers.0.type": "Conv2d", ...}`` from a nested config."""
    out = {}
    items = cfg.items() if isinstance(cfg, dict) else enumerate(cfg)
    for k, v in items:
        key = f"{prefix}{k}"
        if isinstance(v, dict | list) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


class MLflowLogger(Callback):
    """Start an MLflow run at ``on_train_begin``: log ``params`` and the Trainer's config
    (flattened), every epoch's logs as metrics (step = epoch), and at ``on_train_end`` (or
    ``close()``, for runs that write files after training) the files of ``run_dir`` as
    artifacts.

    ``tracking_uri``: an MLflow store URI (default ``sqlite:///mlruns/mlflow.db``);
    ``artifact_location``: where a new experiment keeps artifacts (default ``mlruns/artifacts``
    beside a local SQLite store).
    """

    def __init__(self, experiment: str = "axonic", run_name: str | None = None,
                 params: dict | None = None, run_dir=None,
                 tracking_uri: str = "sqlite:///mlruns/mlflow.db",
                 artifact_location: str | None = None, tags: dict | None = None):
        self.experiment, self.run_name, self.params = experiment, run_name, dict(params or {})
        self.run_dir = None if run_dir is None else Path(run_dir)
        self.tracking_uri, self.artifact_location = tracking_uri, artifact_location
        self.tags = dict(tags or {})
        self.run_id, self.closed = None, False
        self.close_later = False  # True: the caller writes more files, then calls close()

    @classmethod
    def for_trial(cls, experiment: str = "axonic", **kwargs):
        """A factory ``(trial_or_fold, run_dir) -> MLflowLogger`` for ``axonic.tune.run``
        and ``cross_validate``: one MLflow run per trial or fold, named after it."""
        def make(trial, run_dir):
            number = getattr(trial, "number", trial)
            params = dict(getattr(trial, "params", {}))
            logger = cls(experiment, run_name=Path(run_dir).name, params=params,
                         run_dir=run_dir, tags={"axonic.trial": str(number)}, **kwargs)
            logger.close_later = True  # closed after the run has written all its files
            return logger
        return make

    def _artifact_location(self) -> str | None:
        if self.artifact_location is not None:
            return self.artifact_location
        if self.tracking_uri.startswith("sqlite:///"):
            db = Path(self.tracking_uri[len("sqlite:///"):])
            return (db.parent / "artifacts").resolve().as_uri()
        return None

    def on_train_begin(self, logs=None):
        mlflow = _mlflow()
        if self.tracking_uri.startswith("sqlite:///"):
            Path(self.tracking_uri[len("sqlite:///"):]).parent.mkdir(parents=True,
                                                                      exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        client = mlflow.MlflowClient(self.tracking_uri)
        exp = client.get_experiment_by_name(self.experiment)
        exp_id = exp.experiment_id if exp is not None else client.create_experiment(
            self.experiment, artifact_location=self._artifact_location())
        run = client.create_run(exp_id, run_name=self.run_name, tags=self.tags)
        self.run_id, self.client = run.info.run_id, client
        params = flatten(getattr(self.trainer, "config", None) or {})
        params.update(self.params)
        for key, value in params.items():
            client.log_param(self.run_id, key, str(value)[:6000])

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if isinstance(value, int | float):
                self.client.log_metric(self.run_id, key, float(value), step=epoch)

    def on_train_end(self, logs=None):
        if not self.close_later:
            self.close()

    def close(self) -> None:
        """Log ``run_dir`` as artifacts and end the MLflow run (once)."""
        if self.run_id is None or self.closed:
            return
        if self.run_dir is not None and self.run_dir.is_dir():
            self.client.log_artifacts(self.run_id, str(self.run_dir))
        self.client.set_terminated(self.run_id, status="FINISHED")
        self.closed = True

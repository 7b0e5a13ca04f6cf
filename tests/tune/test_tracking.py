"""MLflowLogger: params, per-epoch metrics and the run directory reach an MLflow store."""

import numpy as np
import pytest

from axonic import nn, optim
from axonic.train import CSVLogger, Trainer
from axonic.tune import MLflowLogger, run
from axonic.tune.tracking import flatten


def _client(uri):
    import mlflow

    return mlflow.MlflowClient(uri)


@pytest.mark.slow  # MLflow builds its SQLite schema (many migrations) for each new store
def test_mlflow_logger_records_params_metrics_and_artifacts(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    run_dir = tmp_path / "run"
    X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 2))
    logger = MLflowLogger("unit", run_name="r1", params={"lr": 0.1}, run_dir=run_dir,
                          tracking_uri=uri)
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                      metrics=["accuracy"], callbacks=[CSVLogger(run_dir / "history.csv"),
                                                        logger])
    trainer.config = {"optimizer": {"type": "SGD", "lr": 0.1}}
    history = trainer.fit((X, y), epochs=3, batch_size=8, verbose=0)
    client = _client(uri)
    got = client.get_run(logger.run_id)
    assert got.info.run_name == "r1" and got.info.status == "FINISHED"
    assert got._data.params["lr"] == "0.1" and got._data.params["optimizer.type"] == "SGD"
    losses = [m.value for m in client.get_metric_history(logger.run_id, "loss")]
    assert losses == history.history["loss"]
    assert [a.path for a in client.list_artifacts(logger.run_id)] == ["history.csv"]
    assert (tmp_path / "mlruns" / "artifacts").is_dir()  # local artifacts beside the store


@pytest.mark.slow
def test_every_trial_of_a_study_is_an_mlflow_run(iris_config, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    iris_config["tune"]["trials"] = 2
    study = run(iris_config, out=tmp_path / "s", verbose=0,
                callbacks=[MLflowLogger.for_trial("tune-iris", tracking_uri=uri)])
    client = _client(uri)
    exp = client.get_experiment_by_name("tune-iris")
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.run_name"])
    assert [r.info.run_name for r in runs] == ["trial-0000", "trial-0001"]
    for r, t in zip(runs, study.trials):
        assert float(r._data.params["optimizer.lr"]) == t.params["optimizer.lr"]
        assert r._data.metrics["val_accuracy"] == t.value
        names = {a.path for a in client.list_artifacts(r.info.run_id)}
        assert {"config.toml", "model.safetensors", "test_metrics.json"} <= names


def test_flatten_names_nested_keys_with_dots():
    assert flatten({"a": {"b": 1, "c": [{"t": "x"}]}, "d": []}) == \
        {"a.b": 1, "a.c.0.t": "x", "d": []}

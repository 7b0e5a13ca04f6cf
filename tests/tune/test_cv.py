"""Cross-validation (`axonic cv`, axonic.tune.cross_validate): stratified folds keep class
ratios, time-series folds never train on the future, per-fold metrics, table and plot."""

import csv

import numpy as np
import pytest

from axonic.cli.config import ConfigError
from axonic.cli.main import main
from axonic.tune import cross_validate
from axonic.tune.toml import dumps


@pytest.fixture
def wine_config(iris_config):
    del iris_config["tune"]
    iris_config.update(epochs=1, data={"dataset": "wine", "batch_size": 32,
                                       "transforms": [{"type": "Standardize"}]})
    del iris_config["model"]["layers"][0]["in_features"]  # 13 here: inferred from the data
    return iris_config


def test_stratified_folds_keep_class_ratios_within_one_sample(wine_config, tmp_path):
    result = cross_validate(wine_config, folds=4, out=tmp_path, verbose=0)
    from axonic.cli.data import as_arrays
    from axonic.data.datasets import REGISTRY

    _, y = as_arrays(REGISTRY["wine"]())
    pool = np.concatenate(result["indices"][0])
    assert result["kind"] == "stratified" and len(result["folds"]) == 4
    assert len(pool) == len(np.unique(pool))  # the test split is held out, folds disjoint
    share = np.bincount(y[pool]) / len(pool)
    for train, val in result["indices"]:
        assert not set(train) & set(val)
        assert np.all(np.abs(np.bincount(y[val], minlength=3) - share * len(val)) <= 1)
    all_val = np.sort(np.concatenate([v for _, v in result["indices"]]))
    np.testing.assert_array_equal(all_val, np.sort(pool))


def test_time_series_folds_never_train_on_the_future(tmp_path):
    cfg = {"epochs": 1, "data": {"dataset": "timeseries", "args": {
        "synthetic": "sine", "length": 300, "window": 12, "horizon": 1}, "batch_size": 32},
        "model": {"layers": [{"type": "Linear", "in_features": 12, "out_features": 1}]},
        "loss": {"type": "MSELoss"}, "callbacks": {"plotter": False}}
    result = cross_validate(cfg, folds=3, out=tmp_path, verbose=0)
    assert result["kind"] == "time-ordered"
    for train, val in result["indices"]:
        assert train.max() < val.min()
        assert val.min() - train.max() > 12  # the gap: no training window reaches into val
    sizes = [len(t) for t, _ in result["indices"]]
    assert sizes == sorted(sizes)  # each fold trains on all the past before it
    assert set(result["mean"]) == {"val_loss", "val_mae", "val_rmse"}


def test_axonic_cv_prints_folds_mean_and_std_and_writes_table_and_box_plot(
        wine_config, tmp_path, capsys):
    path = tmp_path / "wine.toml"
    path.write_text(dumps(wine_config))
    assert main(["cv", str(path), "--folds", "3", "--out", str(tmp_path / "cv")]) == 0
    out = capsys.readouterr().out
    assert "fold 1/3: val_loss" in out and "fold 3/3" in out and "mean ± std: val_loss" in out
    rows = list(csv.reader(open(tmp_path / "cv" / "cv.csv")))
    assert rows[0] == ["fold", "n_train", "n_val", "val_loss", "val_accuracy"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "mean", "std"]
    accs = [float(r[4]) for r in rows[1:4]]
    assert float(rows[4][4]) == pytest.approx(np.mean(accs))
    assert float(rows[5][4]) == pytest.approx(np.std(accs, ddof=1))
    assert (tmp_path / "cv" / "cv.png").stat().st_size > 1000
    assert (tmp_path / "cv" / "fold-2" / "history.csv").is_file()
    assert main(["cv", str(path), "--folds", "1"]) == 2
    assert "axonic cv: error: cv: --folds must be an integer >= 2, got 1" in \
        capsys.readouterr().err


def test_no_stratify_and_regression_use_shuffled_folds(wine_config, tmp_path):
    result = cross_validate(wine_config, folds=2, out=tmp_path, stratified=False, verbose=0)
    assert result["kind"] == "shuffled"
    wine_config.update(data={"dataset": "diabetes"}, loss={"type": "MSELoss"},
                       training={"metrics": ["mae"]})
    wine_config["model"]["layers"][2]["out_features"] = 1
    with pytest.raises(ConfigError, match="cv: stratified folds need a classification config"):
        cross_validate(wine_config, folds=2, out=tmp_path, stratified=True, verbose=0)

"""Streaming metrics and the scikit-learn reports agree with scikit-learn itself."""

import math

import numpy as np
import pytest
import sklearn.metrics as skm

from axonic.train import metrics as M


def batches(*arrays, sizes=(7, 1, 13, 19, 10)):
    start = 0
    for s in sizes:
        yield tuple(a[start:start + s] for a in arrays)
        start += s


@pytest.fixture
def multiclass():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 50)
    logits = rng.normal(size=(50, 4)) + np.eye(4)[y] * 1.5
    return logits.astype(np.float32), y


@pytest.fixture
def binary():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 50)
    scores = (rng.normal(size=(50, 1)) + (y[:, None] - 0.5)).astype(np.float32)
    return scores, y


@pytest.fixture
def regression():
    rng = np.random.default_rng(2)
    y = rng.normal(size=50)
    return (y + rng.normal(scale=0.3, size=50)).reshape(50, 1).astype(np.float32), y


def streamed(metric, out, y):
    for o, t in batches(out, y):
        metric.update(o, t)
    return metric.result()


def test_classification_metrics_match_sklearn(multiclass):
    out, y = multiclass
    pred = out.argmax(1)
    assert streamed(M.Accuracy(), out, y) == pytest.approx(skm.accuracy_score(y, pred))
    for avg in ("macro", "weighted", "micro"):
        for cls, fn in ((M.Precision, skm.precision_score), (M.Recall, skm.recall_score),
                        (M.F1Score, skm.f1_score)):
            got = streamed(cls(average=avg), out, y)
            assert got == pytest.approx(fn(y, pred, average=avg, zero_division=0)), (cls, avg)
    p = np.exp(out - out.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert streamed(M.ROCAUC(), out, y) == pytest.approx(
        skm.roc_auc_score(y, p, multi_class="ovr"))
    r = M.classification_report(y, out)
    assert r["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert r["f1_weighted"] == pytest.approx(skm.f1_score(y, pred, average="weighted"))


def test_binary_metrics_match_sklearn(binary):
    scores, y = binary
    pred = (scores[:, 0] > 0).astype(int)
    assert streamed(M.Accuracy(), scores, y) == pytest.approx(skm.accuracy_score(y, pred))
    assert streamed(M.F1Score(average="binary"), scores, y) == pytest.approx(
        skm.f1_score(y, pred))
    assert streamed(M.Precision(average="binary"), scores, y) == pytest.approx(
        skm.precision_score(y, pred))
    assert streamed(M.Recall(average="binary"), scores, y) == pytest.approx(
        skm.recall_score(y, pred))
    assert streamed(M.ROCAUC(), scores, y) == pytest.approx(skm.roc_auc_score(y, scores[:, 0]))
    probs = 1 / (1 + np.exp(-scores))
    assert streamed(M.Accuracy(from_logits=False), probs, y) == pytest.approx(
        skm.accuracy_score(y, pred))
    r = M.classification_report(y, scores)
    assert r["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert r["roc_auc"] == pytest.approx(skm.roc_auc_score(y, scores[:, 0]))


def test_regression_metrics_match_sklearn(regression):
    out, y = regression
    o = out[:, 0].astype(np.float64)
    assert streamed(M.MeanAbsoluteError(), out, y) == pytest.approx(
        skm.mean_absolute_error(y, o), rel=1e-6)
    mse = skm.mean_squared_error(y, o)
    assert streamed(M.MeanSquaredError(), out, y) == pytest.approx(mse, rel=1e-6)
    assert streamed(M.RootMeanSquaredError(), out, y) == pytest.approx(math.sqrt(mse), rel=1e-6)
    assert streamed(M.R2Score(), out, y) == pytest.approx(skm.r2_score(y, o), rel=1e-6)
    r = M.regression_report(y, out)
    assert r == pytest.approx({"mae": skm.mean_absolute_error(y, o), "mse": mse,
                               "rmse": math.sqrt(mse), "r2": skm.r2_score(y, o)}, rel=1e-6)


def test_metric_state_round_trips_mid_epoch(multiclass):
    out, y = multiclass
    a, b = M.F1Score(), M.Accuracy()
    a.update(out[:20], y[:20])
    b.update(out[:20], y[:20])
    a2, b2 = M.F1Score(), M.Accuracy()
    a2.load_state_dict(a.state_dict())
    b2.load_state_dict(b.state_dict())
    for m in (a, b, a2, b2):
        m.update(out[20:], y[20:])
    assert a.result() == a2.result() and b.result() == b2.result()


def test_roc_auc_is_nan_when_a_class_is_missing(multiclass):
    out, y = multiclass
    m = M.ROCAUC()
    m.update(out[y != 2], y[y != 2])
    assert math.isnan(m.result())


def test_metric_names_and_errors():
    assert isinstance(M.get_metric("acc"), M.Accuracy)
    assert M.get_metric("recall_weighted").average == "weighted"
    with pytest.raises(ValueError, match="unknown metric 'rsme'. Did you mean 'rmse'"):
        M.get_metric("rsme")
    with pytest.raises(ValueError, match="average must be .* got 'samples'"):
        M.F1Score(average="samples")
    with pytest.raises(ValueError, match=r"output shape \(3, 2\) does not match target shape"):
        M.MeanSquaredError().update(np.zeros((3, 2)), np.zeros(4))


def test_confusion_matrix_text():
    text = M.format_confusion_matrix([[5, 1], [0, 7]])
    assert text.splitlines()[-2].split() == ["0:", "5", "1"]

"""NeuralNetClassifier / NeuralNetRegressor: scikit-learn's estimator contract, skorch's
names, and use inside Pipeline, GridSearchCV, RandomizedSearchCV, cross_val_score, clone."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from axonic import nn, optim
from axonic.sklearn import MLPModule, NeuralNetClassifier, NeuralNetRegressor

# checks that cannot apply, with the reason (check_estimator reports them as skipped)
NOT_APPLICABLE = {
    "check_array_api_input": "the estimators take NumPy arrays (they declare no array API "
                             "support); scikit-learn runs it only with SCIPY_ARRAY_API=1",
}


@pytest.mark.parametrize("cls", [NeuralNetClassifier, NeuralNetRegressor])
def test_check_estimator_passes(cls):
    est = cls(optimizer=optim.Adam, lr=0.01, max_epochs=40, batch_size=32, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    assert len(results) > 50
    bad = {r["check_name"]: str(r["exception"])[:300] for r in results
           if r["status"] != "passed" and r["check_name"] not in NOT_APPLICABLE}
    assert not bad, bad
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert skipped <= set(NOT_APPLICABLE)


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X.astype(np.float32), y


def test_gridsearch_over_lr_and_hidden_matches_a_hand_written_loop():
    X, y = _breast_cancer()
    base = make_pipeline(StandardScaler(), NeuralNetClassifier(
        optimizer=optim.Adam, max_epochs=4, batch_size=64, random_state=0, module__hidden=8))
    grid = {"neuralnetclassifier__lr": [0.001, 0.01],
            "neuralnetclassifier__module__hidden": [4, 16]}
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(base, grid, cv=folds).fit(X, y)
    means = []
    for params in ParameterGrid(grid):
        scores = [clone(base).set_params(**params).fit(X[tr], y[tr]).score(X[te], y[te])
                  for tr, te in folds.split(X, y)]
        means.append((np.mean(scores), params))
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  [m for m, _ in means])
    best = max(range(len(means)), key=lambda i: (means[i][0], -i))
    assert search.best_params_ == means[best][1]
    assert search.best_score_ == means[best][0]


def test_works_in_pipeline_randomized_search_cross_val_score_and_clone():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(lr=0.1, max_epochs=30,
                                                               batch_size=16, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.8
    search = RandomizedSearchCV(pipe, {"neuralnetclassifier__lr": [0.05, 0.1, 0.2]}, n_iter=2,
                                cv=2, random_state=0).fit(X, y)
    assert search.best_params_["neuralnetclassifier__lr"] in (0.05, 0.1, 0.2)
    net = NeuralNetClassifier(module__hidden=7, optimizer__momentum=0.5)
    twin = clone(net)
    assert twin.get_params() == net.get_params() and twin is not net
    assert not hasattr(twin, "module_")


def test_input_width_and_number_of_classes_come_from_the_data():
    X, y = load_iris(return_X_y=True)
    clf = NeuralNetClassifier(max_epochs=1, module__hidden=5).fit(X, y)
    first, last = clf.module_.sequential[0], clf.module_.sequential[-1]
    assert (first.in_features, last.out_features) == (4, 3)
    reg = NeuralNetRegressor(max_epochs=1).fit(X, np.stack([y, -y], 1).astype(float))
    assert reg.module_.sequential[-1].out_features == 2 and reg.predict(X).shape == (150, 2)
    assert NeuralNetRegressor(max_epochs=1).fit(X, y.astype(float)).predict(X).shape == (150,)


def test_module_optimizer_and_criterion_arguments_are_routed():
    X, y = load_iris(return_X_y=True)
    clf = NeuralNetClassifier(max_epochs=1, module__hidden=6, module__num_hidden=2,
                              optimizer__momentum=0.9, criterion__label_smoothing=0.1,
                              lr=0.03).fit(X, y)
    assert [m.out_features for m in clf.module_.sequential if isinstance(m, nn.Linear)] \
        == [6, 6, 3]
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.9
    assert clf.optimizer_.param_groups[0]["lr"] == 0.03
    assert clf.criterion_.label_smoothing == 0.1
    assert clf.get_params()["module__hidden"] == 6
    clf.set_params(module__hidden=3)
    assert clf.fit(X, y).module_.sequential[0].out_features == 3


def test_module_may_be_an_instance_or_a_class_without_width_arguments():
    X, y = load_iris(return_X_y=True)

    class Fixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(4, 3)

        def forward(self, x):
            return self.net(x)

    assert NeuralNetClassifier(Fixed, max_epochs=1).fit(X, y).predict(X).shape == (150,)
    template = MLPModule(4, 3, hidden=4)
    clf = NeuralNetClassifier(template, max_epochs=2).fit(X, y)
    assert clf.module_ is not template  # the given instance is left untouched


def test_partial_fit_and_warm_start_continue_training():
    X, y = load_iris(return_X_y=True)
    clf = NeuralNetClassifier(max_epochs=2, random_state=0).fit(X, y)
    weight = clf.module_.sequential[0].weight
    clf.partial_fit(X, y)
    assert len(clf.history_) == 4 and clf.module_.sequential[0].weight is weight
    warm = NeuralNetClassifier(max_epochs=2, warm_start=True, random_state=0).fit(X, y)
    module = warm.module_
    warm.fit(X, y)
    assert warm.module_ is module and [r["epoch"] for r in warm.history_] == [1, 2, 3, 4]
    cold = NeuralNetClassifier(max_epochs=2, random_state=0).fit(X, y)
    module = cold.module_
    assert cold.fit(X, y).module_ is not module and len(cold.history_) == 2
    first = NeuralNetClassifier(max_epochs=1).partial_fit(X[:10], y[:10], classes=[0, 1, 2])
    assert list(first.classes_) == [0, 1, 2]


def test_train_split_holds_out_validation_data():
    X, y = load_iris(return_X_y=True)
    clf = NeuralNetClassifier(max_epochs=2, train_split=0.2).fit(X, y)
    assert {"val_loss", "val_accuracy", "loss", "accuracy"} <= set(clf.history_[-1])
    seen = []

    def split(X, y):
        seen.append(len(X))
        return X[:100], y[:100], X[100:], y[100:]

    NeuralNetRegressor(max_epochs=1, train_split=split).fit(X, y.astype(float))
    assert seen == [150]


def test_same_random_state_gives_the_same_model():
    X, y = load_iris(return_X_y=True)
    a = NeuralNetClassifier(max_epochs=3, random_state=3).fit(X, y).predict_proba(X)
    b = NeuralNetClassifier(max_epochs=3, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow  # importing skorch (and its dependencies) takes seconds
def test_constructor_names_and_defaults_follow_skorch():
    import skorch  # the reference; it needs tabulate besides torch
    ours = inspect.signature(NeuralNetClassifier.__init__).parameters
    theirs = inspect.signature(skorch.NeuralNet.__init__).parameters
    assert set(ours) - {"random_state"} <= set(theirs)
    for name in ("lr", "max_epochs", "batch_size", "warm_start", "device"):
        assert ours[name].default == theirs[name].default, name


@pytest.mark.parametrize("kwargs, error, message", [
    ({"hidden": 3}, TypeError, "unexpected argument(s) hidden; extra arguments must start "
                               "with module__, optimizer__, criterion__"),
    ({"max_epochs": -1}, ValueError, "NeuralNetClassifier: max_epochs must be an integer >= 0, "
                                     "got -1"),
    ({"lr": "fast"}, ValueError, "NeuralNetClassifier: lr must be a number >= 0, got 'fast'"),
    ({"train_split": 2.0}, ValueError, "train_split must be None, a fraction in (0, 1) or a "
                                       "callable"),
    ({"module__widht": 3}, TypeError, "NeuralNetClassifier: could not build the module "
                                      "MLPModule with"),
    ({"module": 3}, TypeError, "NeuralNetClassifier: module must be an axonic nn.Module class "
                               "or instance, got 3"),
])
def test_bad_arguments_are_named_when_fitting(kwargs, error, message):
    X, y = load_iris(return_X_y=True)
    est = NeuralNetClassifier(**kwargs)  # scikit-learn's rule: __init__ only stores
    with pytest.raises(error) as info:
        est.fit(X, y)
    assert message in str(info.value)


def test_labels_outside_classes_and_single_class_data_are_refused():
    X, y = load_iris(return_X_y=True)
    clf = NeuralNetClassifier(max_epochs=1).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"labels \[2\] are not in classes_ \[0, 1\]"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="needs samples of at least 2 classes, got 1 class"):
        NeuralNetClassifier().fit(X[:10], y[:10])
    reg = NeuralNetRegressor(max_epochs=1).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="y has 2 outputs, the fitted module has 1"):
        reg.partial_fit(X, np.stack([y, y], 1).astype(float))

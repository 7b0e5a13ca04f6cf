"""An axonic network inside scikit-learn: a Pipeline, GridSearchCV over the learning rate
and the hidden width, and cross_val_score on the breast-cancer data.

    python examples/sklearn_grid_search.py
"""

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from axonic import optim
from axonic.sklearn import NeuralNetClassifier


def main(max_epochs: int = 20) -> GridSearchCV:
    X, y = load_breast_cancer(return_X_y=True)
    net = NeuralNetClassifier(optimizer=optim.Adam, max_epochs=max_epochs, batch_size=32,
                              random_state=0)
    pipe = make_pipeline(StandardScaler(), net)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, {"neuralnetclassifier__lr": [1e-3, 1e-2],
                                 "neuralnetclassifier__module__hidden": [8, 32]}, cv=folds)
    search.fit(X, y)
    print(f"best parameters: {search.best_params_}  cv accuracy: {search.best_score_:.4f}")
    scores = cross_val_score(search.best_estimator_, X, y, cv=folds)
    print(f"cross_val_score of the best pipeline: {scores.mean():.4f} ± {scores.std():.4f}")
    return search


if __name__ == "__main__":
    main()

"""Train a multilayer perceptron on the breast-cancer data with the Python Trainer.

    python examples/train_mlp.py

Shows: a stratified split, standardisation, metrics streamed during training and computed
by scikit-learn at the end, early stopping that restores the best weights, resumable
checkpoints, a CSV log, TensorBoard event files and a PNG of the curves.
"""

import tempfile
from pathlib import Path

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import get_dataset, stratified_split
from axonic.train import (
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    Plotter,
    TensorBoard,
    Trainer,
)
from axonic.train.metrics import classification_report, format_confusion_matrix


def main(out_dir: Path) -> float:
    axonic.manual_seed(0)
    ds = get_dataset("breast_cancer")
    X, y = (t.numpy() for t in ds.tensors)
    train_idx, val_idx, test_idx = stratified_split(y, [0.6, 0.2, 0.2], seed=0)
    mean, std = X[train_idx].mean(0), X[train_idx].std(0)
    X = (X - mean) / std  # statistics of the training split only

    model = nn.Sequential(nn.Linear(30, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(
        model, optimizer, nn.CrossEntropyLoss(),
        metrics=["accuracy", "f1_macro", "roc_auc"],
        callbacks=[
            EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True),
            ModelCheckpoint(out_dir / "checkpoints", monitor="val_loss"),
            CSVLogger(out_dir / "history.csv"),
            TensorBoard(out_dir / "tensorboard"),
            Plotter(out_dir / "curves.png"),
        ],
        scheduler=optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5),
        l2=1e-4, seed=0,
    )
    history = trainer.fit((X[train_idx], y[train_idx]),
                          validation=(X[val_idx], y[val_idx]), epochs=100, batch_size=32)
    best_epoch, best = history.best("val_loss")
    print(f"best val_loss {best:.4f} at epoch {best_epoch + 1}")

    scores = trainer.predict(X[test_idx]).numpy()
    report = classification_report(y[test_idx], scores)
    print(f"test accuracy {report['accuracy']:.4f}, F1 {report['f1']:.4f}, "
          f"ROC-AUC {report['roc_auc']:.4f}")
    print(format_confusion_matrix(report["confusion_matrix"]))
    print(f"files in {out_dir}: {sorted(p.name for p in out_dir.iterdir())}")
    return report["accuracy"]


if __name__ == "__main__":
    acc = main(Path(tempfile.mkdtemp(prefix="axonic-mlp-")))
    assert np.isfinite(acc)

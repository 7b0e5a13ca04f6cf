"""Distil a large MLP into a small one on scikit-learn's 8x8 handwritten digits.

    python examples/distill.py [--seeds 5] [--epochs 60] [--temperature 2] [--alpha 0.5]
                               [--train 200] [--teacher-data pool|same]

The digits are split once: 30 % for testing (never trained on), the rest a pool of labelled
images of which the students see a small stratified subset (``--train``, 200 images). A
teacher (64-256-256-10 with dropout) is trained once, on the whole pool (``pool``: a
teacher that has seen more data, as a pre-trained model has) or on the students' subset
(``same``). Then, for each seed, the same small student (64-``hidden``-10, same initial
weights) is trained twice on the same subset for the same epochs with the same optimizer
and batch order: once alone (cross-entropy), once with ``Distill`` (Hinton's loss against
the teacher's soft targets). It prints the test accuracy of each run and the means (the
numbers in docs/DEPLOY.md, "Distillation").
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import axonic
from axonic import nn, optim
from axonic.train import Trainer
from axonic.train.distill import Distill


def data(train_size: int = 500):
    """Digits as flat float32 vectors in [0, 1]: ``(pool, subset, test)``, each ``(X, y)``;
    the subset (``train_size`` images, stratified) is part of the pool."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xp, Xte, yp, yte = train_test_split(X, y.astype(np.int64), test_size=0.3, stratify=y,
                                        random_state=0)
    Xs, _, ys, _ = train_test_split(Xp, yp, train_size=train_size, stratify=yp, random_state=0)
    return (Xp, yp), (Xs, ys), (Xte, yte)


def mlp(*sizes, dropout: float = 0.0):
    layers = []
    for a, b in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(*layers[:-2 if dropout else -1])


def accuracy(model, X, y) -> float:
    model.eval()
    with axonic.no_grad():
        return float((model(axonic.tensor(X)).numpy().argmax(1) == y).mean())


def fit(model, X, y, epochs, seed, callbacks=(), lr=3e-3):
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(),
                      callbacks=list(callbacks), seed=seed)
    trainer.fit((X, y), epochs=epochs, batch_size=32, verbose=0)
    return model


def main(seeds: int = 5, epochs: int = 60, temperature: float = 2.0, alpha: float = 0.5,
         hidden: int = 16, train: int = 200, teacher_data: str = "pool",
         teacher_epochs: int = 20, teacher_lr: float = 2e-3) -> dict:
    if teacher_data not in ("same", "pool"):
        raise ValueError(f"teacher_data must be 'same' or 'pool', got {teacher_data!r}")
    pool, (Xtr, ytr), (Xte, yte) = data(train)
    axonic.manual_seed(100)
    Xt, yt = (Xtr, ytr) if teacher_data == "same" else pool
    teacher = fit(mlp(64, 256, 256, 10, dropout=0.3), Xt, yt, epochs=teacher_epochs, seed=100,
                  lr=teacher_lr)
    result = {"teacher": accuracy(teacher, Xte, yte), "alone": [], "distilled": []}
    print(f"teacher 64-256-256-10 trained on {len(Xt)} images: test accuracy "
          f"{result['teacher']:.4f}", flush=True)
    for seed in range(seeds):
        for kind in ("alone", "distilled"):
            axonic.manual_seed(seed)  # the same initial student for both runs
            student = mlp(64, hidden, 10)
            cbs = [Distill(teacher, temperature, alpha)] if kind == "distilled" else []
            fit(student, Xtr, ytr, epochs, seed, cbs)
            result[kind].append(accuracy(student, Xte, yte))
        print(f"seed {seed}: student alone {result['alone'][-1]:.4f}  "
              f"distilled {result['distilled'][-1]:.4f}", flush=True)
    for kind in ("alone", "distilled"):
        print(f"student 64-{hidden}-10 on {len(Xtr)} images, {kind:9s}: mean test accuracy "
              f"{np.mean(result[kind]):.4f} (std {np.std(result[kind]):.4f})")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--train", type=int, default=200)
    p.add_argument("--teacher-data", choices=("same", "pool"), default="pool")
    p.add_argument("--teacher-epochs", type=int, default=20)
    p.add_argument("--teacher-lr", type=float, default=2e-3)
    a = p.parse_args()
    main(a.seeds, a.epochs, a.temperature, a.alpha, a.hidden, a.train, a.teacher_data,
         a.teacher_epochs, a.teacher_lr)

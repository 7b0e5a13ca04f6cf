"""Distil a large MLP into a small one on scikit-learn's 8x8 handwritten digits.

    python examples/distill.py [--seeds 5] [--epochs 30]

A teacher (64-256-256-10) is trained once. Then, for each seed, the same small student
(64-8-10) is trained twice on the same 500 training images for the same epochs with the
same optimizer: once alone (cross-entropy), once with ``Distill`` (Hinton's loss against
the teacher's soft targets, T=4, alpha=0.9). It prints the test accuracy of each run and
the means (the numbers in docs/DEPLOY.md, "Distillation").
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
    """Digits as flat float32 vectors in [0, 1]: a small stratified training set and the
    rest as the test set."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return train_test_split(X, y.astype(np.int64), train_size=train_size, stratify=y,
                            random_state=0)


def mlp(*sizes):
    layers = []
    for a, b in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def accuracy(model, X, y) -> float:
    model.eval()
    with axonic.no_grad():
        return float((model(axonic.tensor(X)).numpy().argmax(1) == y).mean())


def fit(model, X, y, epochs, seed, callbacks=(), lr=3e-3):
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(),
                      callbacks=list(callbacks), seed=seed)
    trainer.fit((X, y), epochs=epochs, batch_size=32, verbose=0)
    return model


def main(seeds: int = 5, epochs: int = 30, temperature: float = 4.0, alpha: float = 0.9,
         student_hidden: int = 8) -> dict:
    Xtr, Xte, ytr, yte = data()
    axonic.manual_seed(100)
    teacher = fit(mlp(64, 256, 256, 10), Xtr, ytr, epochs=60, seed=100, lr=1e-3)
    result = {"teacher": accuracy(teacher, Xte, yte), "alone": [], "distilled": []}
    print(f"teacher 64-256-256-10: test accuracy {result['teacher']:.4f}")
    for seed in range(seeds):
        for kind in ("alone", "distilled"):
            axonic.manual_seed(seed)  # the same initial student for both runs
            student = mlp(64, student_hidden, 10)
            cbs = [Distill(teacher, temperature, alpha)] if kind == "distilled" else []
            fit(student, Xtr, ytr, epochs, seed, cbs)
            result[kind].append(accuracy(student, Xte, yte))
        print(f"seed {seed}: student alone {result['alone'][-1]:.4f}  "
              f"distilled {result['distilled'][-1]:.4f}")
    for kind in ("alone", "distilled"):
        print(f"student 64-{student_hidden}-10 {kind:9s}: mean test accuracy "
              f"{np.mean(result[kind]):.4f} (std {np.std(result[kind]):.4f})")
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--temperature", type=float, default=4.0)
    p.add_argument("--alpha", type=float, default=0.9)
    a = p.parse_args()
    main(a.seeds, a.epochs, a.temperature, a.alpha)

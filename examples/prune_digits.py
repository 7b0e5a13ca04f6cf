"""Prune a CNN on scikit-learn's 8x8 digits: 80 % global magnitude pruning, then fine-tuning;
then 50 % of the filters and units removed for real with ``prune.shrink``.

    python examples/prune_digits.py [--epochs 10] [--finetune 3]

1. Train the CNN; measure its test accuracy.
2. ``global_unstructured(..., L1Unstructured, amount=0.8)`` over every Conv2d/Linear weight:
   the 80 % smallest weights of the whole network go (unevenly per layer). Accuracy drops;
   a few epochs of fine-tuning (the masks stay, so pruned weights stay zero) bring it back.
3. From the trained CNN, ``ln_structured`` prunes half the filters of each convolution and
   half the units of the hidden Linear (with their biases); ``shrink`` builds the smaller
   dense model, whose outputs equal the masked model's; fine-tuning recovers accuracy.
"""

import argparse

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import axonic
from axonic import nn, optim
from axonic.nn.utils import prune
from axonic.train import Trainer


def data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return train_test_split(X, y.astype(np.int64), test_size=0.25, stratify=y, random_state=0)


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3), nn.BatchNorm2d(32), nn.ReLU(),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def fit(model, X, y, epochs, lr=2e-3, seed=0):
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=lr), nn.CrossEntropyLoss(),
                      seed=seed)
    trainer.fit((X, y), epochs=epochs, batch_size=32, verbose=0)
    return model


def accuracy(model, X, y) -> float:
    model.eval()
    with axonic.no_grad():
        return float((model(axonic.tensor(X)).numpy().argmax(1) == y).mean())


def weighted(model):
    return [m for m in model if isinstance(m, nn.Conv2d | nn.Linear)]


def sparsity(model) -> float:
    ws = [m.weight.detach().numpy() for m in weighted(model)]
    return float(sum((w == 0).sum() for w in ws) / sum(w.size for w in ws))


def structured_half(model):
    """Half the filters of every Conv2d and half the units of the hidden Linear (by L2
    norm), with their biases, so that ``shrink`` can drop them."""
    for m in weighted(model)[:-1]:
        prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
        rows = m.weight_mask.numpy().reshape(m.weight_mask.shape[0], -1).max(1)
        prune.custom_from_mask(m, "bias", mask=axonic.tensor(rows))
    return model


def main(epochs: int = 10, finetune: int = 3, seed: int = 0) -> dict:
    Xtr, Xte, ytr, yte = data()
    axonic.manual_seed(seed)
    model = fit(cnn(), Xtr, ytr, epochs, seed=seed)
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    r = {"dense": accuracy(model, Xte, yte)}
    print(f"dense CNN: test accuracy {r['dense']:.4f}, "
          f"{sum(p.numel() for p in model.parameters())} parameters")

    prune.global_unstructured([(m, "weight") for m in weighted(model)],
                              pruning_method=prune.L1Unstructured, amount=0.8)
    r["sparsity"] = sparsity(model)
    r["pruned80"] = accuracy(model, Xte, yte)
    fit(model, Xtr, ytr, finetune, lr=1e-3, seed=seed + 1)
    r["pruned80_finetuned"] = accuracy(model, Xte, yte)
    print(f"80 % global unstructured (sparsity {r['sparsity']:.3f}): accuracy "
          f"{r['pruned80']:.4f} before, {r['pruned80_finetuned']:.4f} after {finetune} "
          f"epochs of fine-tuning ({100 * (r['pruned80_finetuned'] - r['dense']):+.2f} points)")

    dense = cnn()
    dense.load_state_dict(state)
    masked = structured_half(dense).eval()
    small = prune.shrink(masked)
    with axonic.no_grad():
        x = axonic.tensor(Xte)
        r["shrink_max_diff"] = float(np.abs(small(x).numpy() - masked(x).numpy()).max())
    r["params"] = (sum(p.numel() for p in dense.parameters()),
                   sum(p.numel() for p in small.parameters()))
    r["shrunk"] = accuracy(small, Xte, yte)
    fit(small, Xtr, ytr, finetune, lr=1e-3, seed=seed + 1)
    r["shrunk_finetuned"] = accuracy(small, Xte, yte)
    print(f"50 % structured + shrink: {r['params'][0]} -> {r['params'][1]} parameters, "
          f"outputs equal to the masked model's within {r['shrink_max_diff']:.1e}; accuracy "
          f"{r['shrunk']:.4f}, {r['shrunk_finetuned']:.4f} after fine-tuning")
    return r


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--finetune", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    main(a.epochs, a.finetune, a.seed)

"""Explain a digits CNN and a small Transformer, and draw the pictures of docs/INSIGHT.md.

    python examples/explain_digits.py [--out docs/explain] [--epochs 8]

Trains the CNN of examples/configs/cnn_digits.toml on scikit-learn's 8x8 digits with the
``Diagnostics`` callback (it should find nothing), then draws saliency, integrated
gradients and Grad-CAM for four test digits; trains a one-layer Transformer to tell whether
a sequence contains the token 7 and draws its attention map and rollout.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import axonic
from axonic import nn, optim
from axonic.explain import (
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    Saliency,
    attention_maps,
    attention_rollout,
)
from axonic.train import Trainer
from axonic.train.diagnostics import Diagnostics


def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    X = (d.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(X, d.target.astype(np.int64), test_size=0.2, random_state=0,
                            stratify=d.target)


def train_cnn(epochs: int):
    Xtr, Xte, ytr, yte = digits()
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))
    diagnostics = Diagnostics()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=2e-3), nn.CrossEntropyLoss(),
                      metrics=["accuracy"], callbacks=[diagnostics], seed=0)
    trainer.fit((Xtr, ytr), validation=(Xte, yte), epochs=epochs, verbose=0)
    acc = trainer.evaluate((Xte, yte))["accuracy"]
    print(f"digits CNN: test accuracy {acc:.3f}, diagnostics findings: "
          f"{len(diagnostics.findings)}")
    return model.eval(), Xte, yte, diagnostics.findings


def draw_digits(model, X, y, out: Path):
    import matplotlib.pyplot as plt

    x = axonic.tensor(X[:4])
    target = [int(t) for t in y[:4]]
    maps = {
        "saliency": Saliency(model).attribute(x, target=target).numpy(),
        "integrated gradients": IntegratedGradients(model).attribute(x, target=target).numpy(),
        "Grad-CAM (layer 3)": LayerAttribution.interpolate(
            LayerGradCam(model, "3").attribute(x, target=target, relu_attributions=True),
            (8, 8), "bilinear").numpy(),
    }
    fig, axes = plt.subplots(4, 4, figsize=(8, 8))
    for i in range(4):
        axes[i, 0].imshow(X[i, 0], cmap="gray")
        axes[i, 0].set_title(f"digit {y[i]}")
        for j, (name, a) in enumerate(maps.items(), start=1):
            lim = max(float(np.abs(a[i, 0]).max()), 1e-12)
            axes[i, j].imshow(X[i, 0], cmap="gray")
            axes[i, j].imshow(a[i, 0], cmap="RdBu_r", vmin=-lim, vmax=lim, alpha=0.6)
            axes[i, j].set_title(name, fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(out / "digits_attributions.png", dpi=80)
    plt.close(fig)


class Spotter(nn.Module):
    """Embedding + learned positions -> one encoder layer -> mean -> 2 classes."""

    def __init__(self, vocab=10, length=8, d=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(axonic.randn(length, d) * 0.1)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0, batch_first=True), 1)
        self.head = nn.Linear(d, 2)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens) + self.pos).mean(axis=1))


def train_spotter(steps: int = 300):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 7, (2048, 8))
    has = rng.random(2048) < 0.5
    tokens[has, rng.integers(0, 8, has.sum())] = 7
    axonic.manual_seed(0)
    model = Spotter()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=3e-3), nn.CrossEntropyLoss(),
                      metrics=["accuracy"], callbacks=[Diagnostics()], seed=0)
    trainer.fit((tokens, has.astype(np.int64)), epochs=max(1, steps // 64), batch_size=32,
                verbose=0)
    print(f"token spotter: accuracy {trainer.history.history['accuracy'][-1]:.3f}")
    return model.eval()


def draw_attention(model, out: Path):
    import matplotlib.pyplot as plt

    seq = np.array([[3, 1, 4, 1, 5, 7, 2, 6]])
    maps = attention_maps(model, axonic.tensor(seq))
    w = maps["encoder.layers.0.self_attn"].numpy()[0]
    rollout = attention_rollout(maps).numpy()[0]
    names = [str(t) for t in seq[0]]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
    for ax, a, title in zip(axes, [w[0], w[1], rollout], ["head 1", "head 2", "rollout"]):
        ax.imshow(a, cmap="viridis", vmin=0)
        ax.set_xticks(range(8), names)
        ax.set_yticks(range(8), names)
        ax.set_title(title)
        ax.set_xlabel("key token")
    axes[0].set_ylabel("query token")
    fig.tight_layout()
    fig.savefig(out / "attention_map.png", dpi=80)
    plt.close(fig)


def main(out: Path, epochs: int = 8) -> list:
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    model, X, y, findings = train_cnn(epochs)
    draw_digits(model, X, y, out)
    draw_attention(train_spotter(), out)
    print(f"pictures in {out}")
    return findings


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" /
                                        "explain"))
    p.add_argument("--epochs", type=int, default=8)
    args = p.parse_args()
    main(Path(args.out), args.epochs)

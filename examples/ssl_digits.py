"""Self-supervised learning on handwritten digits: SimCLR (two augmented views, NT-Xent
loss) and a masked denoising autoencoder learn an encoder without labels; a linear probe
on the frozen features then measures what they learnt, against the same probe on a
randomly initialised encoder.

    python examples/ssl_digits.py [--steps 500]

The probe sees only 10 labelled images per digit. Prints the probe's test accuracy for
each encoder.
"""

import argparse

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import get_dataset
from axonic.nn.contrastive import NTXentLoss

FEATURES = 32


def encoder():
    """Images to 32 features: a compact code, where what was learnt shows."""
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, FEATURES))


def augment(x, rng):
    """A random view of 8x8 images (rows of 64): shift by up to a pixel, erase a 3x3
    patch, scale the ink and add noise."""
    n = len(x)
    padded = np.pad(x.reshape(n, 8, 8), ((0, 0), (1, 1), (1, 1)))
    dy, dx = rng.integers(0, 3, (2, n, 1, 1))
    rows, cols = np.arange(8)[None, :, None] + dy, np.arange(8)[None, None, :] + dx
    imgs = padded[np.arange(n)[:, None, None], rows, cols]
    r, c = rng.integers(-1, 7, (2, n, 1, 1))
    patch = (np.abs(np.arange(8)[None, :, None] - r) <= 1) & (
        np.abs(np.arange(8)[None, None, :] - c) <= 1)
    imgs = np.where(patch, 0.0, imgs) * rng.uniform(0.7, 1.3, (n, 1, 1))
    imgs += rng.normal(0, 0.1, imgs.shape)
    return imgs.reshape(n, 64).astype(np.float32)


def train_simclr(x, steps, rng, temperature=0.2, batch=256):
    enc = encoder()
    head = nn.Sequential(nn.Linear(FEATURES, 128), nn.ReLU(), nn.Linear(128, 64))
    params = list(enc.parameters()) + list(head.parameters())
    optimizer, loss_fn = optim.Adam(params, lr=1e-3), NTXentLoss(temperature)
    for step in range(1, steps + 1):
        rows = x[rng.choice(len(x), batch, replace=False)]
        v1, v2 = (axonic.tensor(augment(rows, rng)) for _ in range(2))
        loss = loss_fn(head(enc(v1)), head(enc(v2)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"SimCLR step {step:4d}  NT-Xent {loss.item():.4f}")
    return enc


def train_denoising(x, steps, rng, mask=0.3, batch=256):
    enc = encoder()
    dec = nn.Sequential(nn.ReLU(), nn.Linear(FEATURES, 256), nn.ReLU(), nn.Linear(256, 64),
                        nn.Sigmoid())
    optimizer = optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    for step in range(1, steps + 1):
        clean = x[rng.choice(len(x), batch, replace=False)]
        noisy = clean * (rng.random(clean.shape) > mask) + rng.normal(0, 0.1, clean.shape)
        loss = nn.functional.mse_loss(dec(enc(axonic.tensor(noisy.astype(np.float32)))),
                                      axonic.tensor(clean))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"denoising autoencoder step {step:4d}  MSE {loss.item():.4f}")
    return enc


def linear_probe(enc, x_train, y_train, x_test, y_test, steps=300):
    """A linear classifier on the frozen, standardised features of ``enc``."""
    enc.requires_grad_(False)
    with axonic.no_grad():
        f_train, f_test = enc(axonic.tensor(x_train)).numpy(), enc(axonic.tensor(x_test)).numpy()
    mean, std = f_train.mean(0), f_train.std(0) + 1e-6
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    probe = nn.Linear(f_train.shape[1], 10)
    optimizer = optim.Adam(probe.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(probe(axonic.tensor(f_train)), axonic.tensor(y_train))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with axonic.no_grad():
        pred = probe(axonic.tensor(f_test)).argmax(1).numpy()
    return float((pred == y_test).mean())


def main(steps: int = 500, seed: int = 0, labels_per_class: int = 10,
         probe_steps: int = 300) -> dict:
    """Pre-train both encoders for ``steps`` steps, probe all three; returns accuracies."""
    axonic.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = (a.numpy() for a in get_dataset("digits").tensors)
    order = rng.permutation(len(y))
    test, train = order[:500], order[500:]
    labelled = np.concatenate([train[y[train] == c][:labels_per_class] for c in range(10)])
    encoders = {"SimCLR": train_simclr(x[train], steps, rng),
                "denoising autoencoder": train_denoising(x[train], steps, rng),
                "random init": encoder()}
    results = {}
    for name, enc in encoders.items():
        results[name] = linear_probe(enc, x[labelled], y[labelled], x[test], y[test],
                                     probe_steps)
        print(f"linear probe on {name} features ({labels_per_class} labels per digit): "
              f"test accuracy {results[name]:.4f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    main(parser.parse_args().steps)

"""The Trainer against a hand-written loop on the same model, data and optimizer.

Both run ``epochs`` passes of Adam over the digits (1,797 images, 64 features) with a
shuffling DataLoader, reading the loss and counting correct predictions each batch as a
hand-written script does; the Trainer also keeps its resume point, Ctrl-C handling and
callbacks. Runs alternate; the medians and their ratio are printed.

    PYTHONPATH=src python bench/trainer_overhead.py --runs 7
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import DataLoader, TensorDataset
from axonic.train import Trainer


def data():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (axonic.tensor((d.data / 16.0).astype(np.float32)),
            axonic.tensor(d.target.astype(np.int64)))


def model(width):
    axonic.manual_seed(0)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))


def hand_loop(X, y, width, epochs, batch_size):
    net = model(width)
    opt = optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, seed=0)
    for epoch in range(epochs):
        loader.set_epoch(epoch)
        total, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            out = net(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            correct += int((out.argmax(1) == yb).sum())
            seen += len(xb)
    return correct / seen


def trainer(X, y, width, epochs, batch_size):
    net = model(width)
    t = Trainer(net, optim.Adam(net.parameters(), lr=1e-3), nn.CrossEntropyLoss(),
                metrics=["accuracy"], seed=0)
    h = t.fit((X, y), epochs=epochs, batch_size=batch_size, verbose=0)
    return h.history["accuracy"][-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    a = ap.parse_args(argv)
    X, y = data()
    times = {"hand loop": [], "Trainer": []}
    fns = {"hand loop": hand_loop, "Trainer": trainer}
    for fn in fns.values():  # warm-up
        fn(X, y, a.width, 1, a.batch_size)
    for _ in range(a.runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(X, y, a.width, a.epochs, a.batch_size)
            times[name].append(time.perf_counter() - t0)
    steps = a.epochs * -(-len(X) // a.batch_size)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:10s} {v * 1e3:8.1f} ms  ({v / steps * 1e6:6.1f} us/step)")
    print(f"Trainer / hand loop: {med['Trainer'] / med['hand loop']:.3f}")
    return med


if __name__ == "__main__":
    main()

"""A tiny classification problem and model shared by the training tests (and the
subprocess that the SIGKILL test starts: ``python -m tests.train.tiny DIR``)."""

import sys

import numpy as np

import axonic
from axonic import nn, optim
from axonic.train import Callback, ModelCheckpoint, Trainer


def data(n=48, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X, y


def model(seed=0, dropout=0.2):
    axonic.manual_seed(seed)
    layers = [nn.Linear(4, 8), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(8, 3))


def trainer(m=None, callbacks=(), lr=0.05, seed=3, **kw):
    m = m if m is not None else model()
    opt = optim.Adam(m.parameters(), lr=lr)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return Trainer(m, opt, nn.CrossEntropyLoss(), metrics=["accuracy", "f1_macro"],
                   callbacks=list(callbacks), scheduler=sched, seed=seed, **kw)


class Slow(Callback):
    """Sleep after each batch so that a test can kill the process mid-run."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_batch_end(self, batch, logs=None):
        import time

        time.sleep(self.seconds)


def run(ckpt_dir, epochs=6, resume=False, every_n_steps=1, sleep=0.0, **kw):
    """Train the tiny model with a checkpoint every N steps; returns the trainer."""
    X, y = data()
    cbs = [ModelCheckpoint(ckpt_dir, every_n_steps=every_n_steps)]
    if sleep:
        cbs.append(Slow(sleep))
    t = trainer(callbacks=cbs, **kw)
    t.fit((X, y), validation=data(16, seed=1), epochs=epochs, batch_size=8, verbose=0,
          resume_from=ckpt_dir if resume else None)
    return t


if __name__ == "__main__":
    import time

    run(sys.argv[1], sleep=float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
    time.sleep(60)  # stay alive until killed, so a slow test process never misses the kill

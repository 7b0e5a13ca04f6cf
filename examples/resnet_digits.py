"""Train a ResNet (torchvision's architecture, one BasicBlock per stage) on scikit-learn's
8x8 handwritten digits, upsampled to 32x32 RGB, and report the test accuracy.

    python examples/resnet_digits.py
"""

import numpy as np

import axonic
from axonic import nn, optim
from axonic.models import BasicBlock, ResNet
from axonic.train import Trainer


def load_digits_32(seed=0):
    """scikit-learn's 1,797 digits as (N, 3, 32, 32) float32 in [0, 1], split 75/25."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = np.kron(d.images / 16.0, np.ones((4, 4))).astype(np.float32)[:, None]
    x = np.repeat(x, 3, axis=1)
    return train_test_split(x, d.target.astype(np.int64), test_size=0.25,
                            stratify=d.target, random_state=seed)


def main(epochs=8, n_train=None):
    axonic.manual_seed(0)
    x, x_test, y, y_test = load_digits_32()
    if n_train is not None:
        x, y = x[:n_train], y[:n_train]
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10)
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], seed=0)
    trainer.fit((axonic.tensor(x), axonic.tensor(y)), epochs=epochs, batch_size=32, verbose=0)
    model.eval()
    acc = trainer.evaluate((axonic.tensor(x_test), axonic.tensor(y_test)))["accuracy"]
    print(f"ResNet (BasicBlock x [1, 1, 1, 1]), {len(x)} training digits, {epochs} epochs: "
          f"test accuracy {acc:.1%} on {len(x_test)} digits")
    return acc


if __name__ == "__main__":
    main()

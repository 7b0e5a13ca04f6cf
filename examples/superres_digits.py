"""Super-resolution on handwritten digits: each 8x8 image is shrunk to 4x4 (area
averaging), and four ways of bringing it back to 8x8 are compared on held-out digits:

- ``nearest`` and ``bilinear``: ``F.interpolate`` alone, nothing learnt;
- ``upsample + conv``: ``nn.Upsample(scale_factor=2, mode="bilinear")`` then a small CNN
  with reflection padding (``nn.ReflectionPad2d``) that learns to sharpen the result;
- ``sub-pixel (ESPCN)``: a CNN at 4x4 that predicts the four sub-pixels of each pixel,
  arranged by ``nn.PixelShuffle(2)`` (Shi et al., 2016).

    python examples/superres_digits.py [--epochs 60] [--seed 0]

Prints each method's test mean squared error and PSNR (pixels in [0, 1]).
"""

import argparse

import numpy as np

import axonic
from axonic import nn, optim
from axonic.nn import functional as F


def digits(seed: int):
    """(train, test) arrays of shape (n, 1, 8, 8) in [0, 1], 80/20 split."""
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype(np.float32)[:, None]
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(0.8 * len(x))
    return x[order[:cut]], x[order[cut:]]


def shrink(x):
    return F.interpolate(axonic.tensor(x), scale_factor=0.5, mode="area")


def upsample_conv():
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.ReflectionPad2d(1), nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.ReflectionPad2d(1), nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.ReflectionPad2d(1), nn.Conv2d(32, 1, 3))


def sub_pixel():
    return nn.Sequential(
        nn.ReplicationPad2d(1), nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.ReplicationPad2d(1), nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 4, 1), nn.PixelShuffle(2))


def fit(model, small, target, epochs: int, seed: int, batch: int = 64):
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for _ in range(epochs):
        order = rng.permutation(len(target))
        for i in range(0, len(order), batch):
            rows = order[i:i + batch]
            loss = F.mse_loss(model(small[rows]), axonic.tensor(target[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return model.eval()


def main(epochs: int = 60, seed: int = 0) -> dict:
    axonic.manual_seed(seed)
    train, test = digits(seed)
    small_train, small_test = shrink(train), shrink(test)
    results = {}
    with axonic.no_grad():
        for mode in ("nearest", "bilinear"):
            up = F.interpolate(small_test, scale_factor=2, mode=mode)
            results[mode] = F.mse_loss(up, axonic.tensor(test)).item()
    for name, build in (("upsample + conv", upsample_conv), ("sub-pixel (ESPCN)", sub_pixel)):
        model = fit(build(), small_train, train, epochs, seed)
        with axonic.no_grad():
            results[name] = F.mse_loss(model(small_test), axonic.tensor(test)).item()
    for name, mse in results.items():
        print(f"{name:18s} test MSE {mse:.4f}  PSNR {10 * np.log10(1 / mse):5.2f} dB")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.epochs, args.seed)

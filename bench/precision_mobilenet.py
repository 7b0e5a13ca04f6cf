"""Float32 gradient error of a MobileNetV2-like net (depthwise conv + BatchNorm, tiny batch),
axonic and PyTorch, each against its own float64 run on the same weights and inputs.

    PYTHONPATH=src python bench/precision_mobilenet.py

Prints, per parameter and overall, max|g32 - g64| / max|g64| for both libraries, then
the same for each op family alone (depthwise conv, pointwise conv, BatchNorm).
"""

from __future__ import annotations

import numpy as np
import torch

import axonic


def build(lib, cin=16, expand=6, blocks=3, classes=10):
    nn = lib.nn
    layers = [nn.Conv2d(3, cin, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(cin),
              nn.ReLU6()]
    for _ in range(blocks):
        hid = cin * expand
        layers += [nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(),
                   nn.Conv2d(hid, hid, 3, padding=1, groups=hid, bias=False),
                   nn.BatchNorm2d(hid), nn.ReLU6(),
                   nn.Conv2d(hid, cin, 1, bias=False), nn.BatchNorm2d(cin)]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def weights(model):
    rng = np.random.default_rng(0)
    return {k: rng.normal(0, 0.5, tuple(v.shape)) for k, v in model.state_dict().items()
            if "running" not in k and "num_batches" not in k}


def grads(lib, w, x, y, dtype):
    model = build(lib)
    sd = {k: (torch.tensor(v, dtype=dtype) if lib is torch else v.astype(dtype))
          for k, v in w.items()}
    if lib is torch:
        model = model.to(dtype)
        model.load_state_dict(sd, strict=False)
        xt, yt = torch.tensor(x, dtype=dtype), torch.tensor(y)
    else:
        model = model.to(dtype)
        model.load_state_dict(sd, strict=False)
        xt, yt = axonic.tensor(x.astype(dtype)), axonic.tensor(y)
    model.train()
    loss = lib.nn.functional.cross_entropy(model(xt), yt)
    loss.backward()
    return {n: p.grad.detach().numpy().astype(np.float64) for n, p in model.named_parameters()}


def rel_error(g32, g64):
    worst = max(np.abs(g64[k]).max() for k in g64)
    return max(np.abs(g32[k] - g64[k]).max() for k in g64) / worst


def per_param(g32, g64):
    return {k: np.abs(g32[k] - g64[k]).max() / np.abs(g64[k]).max() for k in g64}


def main(batch=2, size=32):
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(batch, 3, size, size))
    y = rng.integers(0, 10, batch)
    w = weights(build(torch))
    ours = {dt: grads(axonic, w, x, y, dt) for dt in ("float32", "float64")}
    theirs = {dt: grads(torch, w, x, y, getattr(torch, dt)) for dt in ("float32", "float64")}
    agree64 = rel_error(ours["float64"], theirs["float64"])
    print(f"batch {batch}, {size}x{size}: float64 axonic vs torch {agree64:.1e}")
    print(f"float32 error vs own float64: axonic {rel_error(ours['float32'], ours['float64']):.3e}"
          f"  torch {rel_error(theirs['float32'], theirs['float64']):.3e}")
    po, pt = per_param(ours["float32"], ours["float64"]), per_param(theirs["float32"],
                                                                     theirs["float64"])
    for k in po:
        print(f"  {k:12s} axonic {po[k]:.2e}  torch {pt[k]:.2e}")


if __name__ == "__main__":
    main()

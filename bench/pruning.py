"""Benchmark: CNN inference before and after 50 % structured pruning with physical removal.

    python bench/pruning.py [--threads 1] [--batch 32] [--quick] [--json]

The CNN (3x32x32 input: Conv 64 - Conv 128 - pool - Conv 128 - pool - Linear 256 - Linear 10,
each conv with BatchNorm and ReLU) is timed in eval mode under no_grad in three forms:
``dense``; ``masked``: half the filters of every conv and half the hidden units pruned by
L2 norm (``ln_structured``, biases with them), which still computes everything; ``shrunk``:
``prune.shrink`` of the masked model, a dense model with those channels gone. The cases
alternate (``time_alternating``); the medians per batch and the speed-up are printed.

>>> from bench.pruning import build
>>> tuple(build().eval()(__import__("axonic").randn(1, 3, 32, 32)).shape)
(1, 10)
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import median, pin_threads, spread, time_alternating


def build():
    from axonic import nn

    def block(a, b):
        return [nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU()]

    return nn.Sequential(*block(3, 64), *block(64, 128), nn.MaxPool2d(2), *block(128, 128),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128 * 8 * 8, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def prune_half(model):
    """Half the filters of every Conv2d and half the hidden units, with their biases."""
    import axonic
    from axonic import nn
    from axonic.nn.utils import prune

    layers = [m for m in model if isinstance(m, nn.Conv2d | nn.Linear)][:-1]
    for m in layers:
        prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
        rows = m.weight_mask.numpy().reshape(m.weight_mask.shape[0], -1).max(1)
        prune.custom_from_mask(m, "bias", mask=axonic.tensor(rows))
    return model


def run(threads: int = 1, batch: int = 32, quick: bool = False) -> dict:
    import axonic
    from axonic.nn.utils import prune

    pin_threads(threads)
    axonic.manual_seed(0)
    dense = build().eval()
    masked = prune_half(build()).eval()
    masked.load_state_dict(_pruned_state(dense, masked))
    small = prune.shrink(masked).eval()
    x = axonic.tensor(np.random.default_rng(0).standard_normal((batch, 3, 32, 32))
                      .astype(np.float32))

    def case(model):
        def call():
            with axonic.no_grad():
                return model(x)
        return call

    with axonic.no_grad():
        diff = float(np.abs(small(x).numpy() - masked(x).numpy()).max())
    runs, warmup, target = (3, 1, 0.2) if quick else (11, 3, 1.0)
    wall, usage, steps = time_alternating({"dense": case(dense), "masked": case(masked),
                                       "shrunk": case(small)},
                                      runs=runs, warmup=warmup, target_s=target)
    params = {k: sum(p.numel() for p in m.parameters())
              for k, m in (("dense", dense), ("shrunk", small))}
    result = {"workload": f"CNN 3x32x32 inference, batch {batch}", "threads": threads,
              "steps_per_run": steps, "runs": runs, "max_abs_diff_shrunk_vs_masked": diff,
              "params": params}
    for k, v in wall.items():
        result[k] = {"median_ms": 1e3 * median(v), "spread": spread(v),
                     "cpu_median_ms": 1e3 * median(usage[k]["cpu"])}
    for base in ("dense", "masked"):  # by wall time, and by CPU time (steadier when shared)
        result[f"speedup_shrunk_vs_{base}"] = median(wall[base]) / median(wall["shrunk"])
        result[f"cpu_speedup_shrunk_vs_{base}"] = (median(usage[base]["cpu"])
                                                   / median(usage["shrunk"]["cpu"]))
    return result


def _pruned_state(dense, masked) -> dict:
    """The dense model's weights under the masked model's names (``weight_orig`` ...), so
    both start from the same numbers; the masks are kept."""
    own = masked.state_dict()
    src = dense.state_dict()
    return {k: (own[k] if k.endswith("_mask") else src[k.replace("_orig", "")]) for k in own}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--quick", action="store_true", help="a few short runs (a smoke run)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    a = p.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(a.threads))
    r = run(a.threads, a.batch, a.quick)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"{r['workload']} ({r['threads']} thread(s), median of {r['runs']} runs)")
        for k in ("dense", "masked", "shrunk"):
            print(f"  {k:7s} {r[k]['median_ms']:8.2f} ms/batch  ±{100 * r[k]['spread']:.0f}%  "
                  f"(CPU {r[k]['cpu_median_ms']:.2f} ms)")
        print(f"  parameters {r['params']['dense']} -> {r['params']['shrunk']}; shrunk vs "
              f"masked outputs differ by at most {r['max_abs_diff_shrunk_vs_masked']:.1e}")
        print(f"  speed-up of shrunk over dense {r['speedup_shrunk_vs_dense']:.2f}x (CPU time "
              f"{r['cpu_speedup_shrunk_vs_dense']:.2f}x), over masked "
              f"{r['speedup_shrunk_vs_masked']:.2f}x (CPU time "
              f"{r['cpu_speedup_shrunk_vs_masked']:.2f}x)")
    return r


if __name__ == "__main__":
    main()

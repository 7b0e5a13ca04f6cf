"""Benchmark: peak resident memory of the MLP and CNN training runs, axonic against PyTorch.

Each (workload, framework) runs in a fresh process that imports only its own framework; the
high-water mark of the resident set (``resource.getrusage``) is read once after the imports
(the baseline) and once after the training steps (the peak). The comparison is on the growth
above the baseline, the memory the training itself takes; both numbers are reported. The
baseline holds each framework's code: PyTorch's import loads its libraries, and for axonic
``axonic.backend.jit.load()`` loads numba's kernels first where numba is installed (~165 MiB,
once per process; without it they would load at the first step and count as growth).

    python bench/memory.py            # or --quick, --json

>>> from bench.memory import WORKLOADS
>>> sorted(WORKLOADS)
['cnn', 'mlp']
"""

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    FRAMEWORKS,
    ROOT,
    load_framework,
    median,
    thread_env,
    to_tensor,
    train_step,
)

WORKLOADS = {"mlp": "MLP training peak memory", "cnn": "CNN training peak memory"}


def peak_rss_mb() -> float:
    """The high-water mark of this process's resident set, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(workload: str, framework: str, steps: int) -> dict:
    """Train ``workload`` for ``steps`` steps in ``framework`` alone; baseline and peak RSS."""
    fw = load_framework(framework, 1)
    module = __import__(f"bench.{workload}", fromlist=["WORKLOAD"])
    if framework == "axonic":  # its compiled kernels, as PyTorch's import loads its own
        from axonic.backend import jit

        jit.load()
    baseline = peak_rss_mb()
    wl = module.WORKLOAD
    fw.manual_seed(0)
    model = wl.build(fw, fw.nn, **wl.sizes)
    inputs, target = wl.data()
    step = train_step(fw, model, [to_tensor(fw, a) for a in inputs], to_tensor(fw, target))
    for _ in range(steps):
        step()
    peak = peak_rss_mb()
    return {"baseline_mb": baseline, "peak_mb": peak, "delta_mb": peak - baseline}


def measure(workload: str, *, steps: int, repeats: int) -> dict:
    """Fresh processes per framework, alternating, ``repeats`` times; the medians."""
    samples = {name: [] for name in FRAMEWORKS}
    for r in range(repeats):
        for name in (FRAMEWORKS if r % 2 == 0 else FRAMEWORKS[::-1]):
            out = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child", workload, name,
                 "--steps", str(steps)],
                env=thread_env(1), capture_output=True, text=True, cwd=ROOT, check=False)
            if out.returncode != 0:
                return {"workload": WORKLOADS[workload], "kind": "memory", "threads": 1,
                        "error": f"{name}: " + out.stderr.strip().splitlines()[-1]}
            samples[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    result = {"workload": WORKLOADS[workload], "kind": "memory", "threads": 1,
              "steps": steps, "repeats": repeats}
    for name, runs in samples.items():
        side = {k: median([s[k] for s in runs]) for k in ("baseline_mb", "peak_mb", "delta_mb")}
        side["display"] = (f"+{side['delta_mb']:.0f} MiB over {side['baseline_mb']:.0f} "
                           f"(peak {side['peak_mb']:.0f})")
        result[name] = side
    # Lower is better here: the training's own memory, axonic over PyTorch.
    result["ratio"] = result["axonic"]["delta_mb"] / max(result["torch"]["delta_mb"], 1e-9)
    return result


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "FRAMEWORK"))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, args.steps)))
        return []
    steps, repeats = (3, 1) if args.quick else (args.steps, 3)
    results = [measure(w, steps=steps, repeats=repeats) for w in WORKLOADS]
    for r in results:
        if args.json:
            print(json.dumps(r))
        elif "error" in r:
            print(f"{r['workload']}: error: {r['error']}")
        else:
            print(f"{r['workload']}: axonic {r['axonic']['display']}, "
                  f"PyTorch {r['torch']['display']}, ratio {r['ratio']:.2f}")
    return results


if __name__ == "__main__":
    main()

"""Import time of ``axonic`` against ``torch`` (and ``numpy``, which axonic builds on).

Each measurement is a fresh ``python -c "import X"`` subprocess, so nothing is cached in
the interpreter; frameworks alternate run by run and the table shows medians. Two numbers
per module: the wall time of the whole process (interpreter start included) and the time
spent inside the ``import`` statement alone.

Run: ``python bench/import_time.py`` (``--runs 9`` for more repeats).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

INNER = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"


def measure(module: str, cache_dir: str | None) -> tuple[float, float]:
    """(process wall seconds, seconds inside ``import module``) for one fresh interpreter.

    With ``cache_dir``, compiled bytecode is kept there (as an installed package keeps its
    ``__pycache__``); without it nothing is cached and every source file is compiled anew.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if cache_dir is None:
        with tempfile.TemporaryDirectory() as empty:  # nothing to read back, nothing written
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            return measure_with(module, dict(env, PYTHONPYCACHEPREFIX=empty))
    return measure_with(module, dict(env, PYTHONPYCACHEPREFIX=cache_dir))


def measure_with(module: str, env: dict) -> tuple[float, float]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", INNER.format(module)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return time.perf_counter() - t0, float(out.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7, help="fresh processes per module (median)")
    p.add_argument("modules", nargs="*", default=["axonic", "torch", "numpy"])
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as cache:
        baseline = [measure("sys", cache)[0] for _ in range(3)]  # the bare interpreter start
        for m in args.modules:  # fill the bytecode cache and the file cache once
            measure(m, cache)
        results = {m: [] for m in args.modules}
        uncached = {m: [] for m in args.modules}
        for _ in range(args.runs):
            for m in args.modules:
                results[m].append(measure(m, cache))
        for _ in range(args.runs):
            for m in args.modules:
                uncached[m].append(measure(m, None)[1])

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, median of {args.runs} "
          f"fresh processes; bare interpreter start {statistics.median(baseline) * 1e3:.0f} ms")
    print(f"{'module':<8} {'process wall (ms)':>18} {'import only (ms)':>17} "
          f"{'no bytecode cache (ms)':>23}")
    med = {}
    for m, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        inner = statistics.median(r[1] for r in runs)
        med[m] = inner
        print(f"{m:<8} {wall * 1e3:>18.0f} {inner * 1e3:>17.0f} "
              f"{statistics.median(uncached[m]) * 1e3:>23.0f}")
    if "axonic" in med and "torch" in med:
        print(f"ratio axonic / torch (import only, cached): {med['axonic'] / med['torch']:.2f}")
    return med


if __name__ == "__main__":
    main()

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

INNER = ("import time; t, c = time.perf_counter(), time.process_time(); import {0}; "
         "print(time.perf_counter() - t, time.process_time() - c)")


def measure(module: str, cache_dir: str | None) -> tuple[float, float, float]:
    """(process wall seconds, wall and CPU seconds inside ``import module``) for one fresh
    interpreter. CPU time is what the import costs whatever else the machine is running.

    With ``cache_dir``, compiled bytecode is kept there (as an installed package keeps its
    ``__pycache__``); without it nothing new is cached, so source files without a
    ``__pycache__`` of their own (a source checkout run with PYTHONDONTWRITEBYTECODE=1) are
    compiled on every import.
    """
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if cache_dir is None:
        return measure_with(module, dict(env, PYTHONDONTWRITEBYTECODE="1"))
    return measure_with(module, dict(env, PYTHONPYCACHEPREFIX=cache_dir))


def measure_with(module: str, env: dict) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", INNER.format(module)], env=env,
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"import {module} failed:\n{proc.stderr}")
    out = proc.stdout
    wall, cpu = (float(v) for v in out.strip().splitlines()[-1].split())
    return time.perf_counter() - t0, wall, cpu


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
                uncached[m].append(measure(m, None)[2])

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, median of {args.runs} "
          f"fresh processes; bare interpreter start {statistics.median(baseline) * 1e3:.0f} ms")
    print(f"{'module':<8} {'process wall':>13} {'import wall':>12} {'import CPU':>11} "
          f"{'import CPU, no bytecode cache':>30}   (ms)")
    med = {}
    for m, runs in results.items():
        process, wall, cpu = (statistics.median(r[k] for r in runs) for k in range(3))
        med[m] = cpu
        print(f"{m:<8} {process * 1e3:>13.0f} {wall * 1e3:>12.0f} {cpu * 1e3:>11.0f} "
              f"{statistics.median(uncached[m]) * 1e3:>30.0f}")
    if "axonic" in med and "torch" in med:
        print(f"ratio axonic / torch (import CPU, cached): {med['axonic'] / med['torch']:.2f}")
    return med


if __name__ == "__main__":
    main()

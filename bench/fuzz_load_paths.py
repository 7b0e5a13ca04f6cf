"""The load-path fuzzers of tests/fuzz at scale: mutated weight files, corrupted, edited and
manifest-edited checkpoints, mutated configs. Prints, per kind, how many cases loaded,
were refused cleanly, and failed (raw exception, half-restore, hang, read outside the
checkpoint folder), with the first failures.

    PYTHONPATH=src:. python bench/fuzz_load_paths.py [--seed 0] [--scale 1.0]

At scale 1 it runs 10,500 cases (4,000 weight files, 2,000 corrupted, 1,500 edited and
1,500 manifest-edited checkpoints, 1,500 configs).
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

from tests.fuzz import harness

ROOT = Path(__file__).resolve().parents[1]
COUNTS = {"weights": 4000, "corrupted": 2000, "edited": 1500, "manifest": 1500,
          "configs": 1500}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--only", nargs="*", choices=list(COUNTS))
    args = p.parse_args()
    root = Path(tempfile.mkdtemp(prefix="axonic-fuzz-"))
    wt = harness.weights_template(root)
    ct = harness.checkpoint_template(root)
    bases = [tomllib.loads(f.read_text())
             for f in sorted((ROOT / "examples" / "configs").glob("*.toml"))]
    total_fail = 0
    for kind, count in COUNTS.items():
        if args.only and kind not in args.only:
            continue
        rng = np.random.default_rng([args.seed, list(COUNTS).index(kind)])
        n = int(count * args.scale)
        outcomes, fails = collections.Counter(), []
        start = time.perf_counter()
        for i in range(n):
            work = root / kind / str(i)
            work.mkdir(parents=True)
            if kind == "weights":
                o = harness.case_weights(rng, wt, work)
            elif kind == "configs":
                o = harness.case_config(rng, bases[i % len(bases)], work)
            else:
                o = harness.case_checkpoint(rng, ct, work, kind)
            head = o.split(":")[0]
            outcomes[head] += 1
            if head in harness.FAILURES:
                fails.append(o[:200])
        total_fail += len(fails)
        print(f"{kind:10s} {n:6d} cases in {time.perf_counter() - start:7.1f}s: "
              + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())), flush=True)
        for f in fails[:5]:
            print("    " + f, flush=True)
    print(f"failures (raw, half-restore, hang, outside): {total_fail}")
    return 1 if total_fail else 0


if __name__ == "__main__":
    raise SystemExit(main())

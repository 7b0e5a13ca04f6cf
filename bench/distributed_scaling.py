"""Benchmark: data-parallel training steps over MPI, and the scaling they predict.

Run under the launcher, one thread per process:

    OMP_NUM_THREADS=1 mpirun -n 1 python bench/distributed_scaling.py
    OMP_NUM_THREADS=1 mpirun -n 2 python bench/distributed_scaling.py

Each rank trains the bench MLP (784-512-256-10, batch 128 per rank) and CNN (28x28,
batch 64 per rank) with Adam under DistributedDataParallel; rank 0 prints, per model,
the median step time, the median all-reduce time inside it, the gradient bytes, and
the samples per second of the whole job. ``--model-table`` prints the predicted
efficiency for 2-64 nodes from a ring all-reduce at 10 and 100 Gbit/s, using the
compute times measured here.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cnn, mlp  # noqa: E402


def measure(workload, steps: int, warmup: int) -> dict:
    import axonic
    import axonic.distributed as dist
    from axonic import nn, optim
    from axonic.nn.parallel import DistributedDataParallel as DDP

    axonic.manual_seed(0)
    model = DDP(workload.build(axonic, nn))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(dist.get_rank())
    xs, y = workload.batch(rng, workload.samples)
    x, y = axonic.tensor(xs[0]), axonic.tensor(y)
    step_t, comm_t = [], []
    for i in range(warmup + steps):
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        took = time.perf_counter() - start
        if i >= warmup:
            step_t.append(took)
            comm_t.append(model.last_allreduce_seconds)
    nbytes = sum(p._data.nbytes for p in model.parameters())
    n = dist.get_world_size()
    med = float(np.median(step_t))
    return {"workload": workload.name, "world_size": n, "step_ms": med * 1e3,
            "allreduce_ms": float(np.median(comm_t)) * 1e3, "grad_bytes": nbytes,
            "samples_per_s": n * workload.samples / med}


def ring_allreduce_seconds(nbytes: float, nodes: int, gbit_s: float,
                           latency_s: float = 20e-6) -> float:
    """Ring all-reduce: 2(N-1)/N of the bytes cross each link, in 2(N-1) latency steps."""
    if nodes == 1:
        return 0.0
    return 2 * (nodes - 1) / nodes * nbytes / (gbit_s * 1e9 / 8) + 2 * (nodes - 1) * latency_s


def model_table(results: list) -> str:
    rows = ["| model | compute ms/step (1 process) | gradient MB | Gbit/s | "
            + " | ".join(f"N={n}" for n in (2, 4, 8, 16, 32, 64)) + " |",
            "|---|---|---|---|" + "---|" * 6]
    for r in results:
        compute = (r["step_ms"] - r["allreduce_ms"]) / 1e3
        for bw in (10, 100):
            effs = []
            for n in (2, 4, 8, 16, 32, 64):
                comm = ring_allreduce_seconds(r["grad_bytes"], n, bw)
                effs.append(f"{compute / (compute + comm):.0%}")
            rows.append(f"| {r['workload']} | {compute * 1e3:.1f} | "
                        f"{r['grad_bytes'] / 2**20:.2f} | {bw} | " + " | ".join(effs) + " |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--model-table", metavar="JSON", help="results of a 1-process run")
    args = ap.parse_args()
    if args.model_table:
        print(model_table(json.loads(Path(args.model_table).read_text())))
        return
    import axonic.distributed as dist

    dist.init_process_group()
    out = [measure(w, args.steps, args.warmup) for w in (mlp.WORKLOAD, cnn.WORKLOAD)]
    if dist.get_rank() == 0:
        print(json.dumps(out, indent=1))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

"""Run under ``mpirun -n N``: one check per mode, results printed by rank 0 as JSON."""

import json
import os
import signal
import sys

import numpy as np

import axonic
import axonic.distributed as dist
from axonic import nn
from axonic.nn.parallel import DistributedDataParallel as DDP


def collectives():
    r, n = dist.get_rank(), dist.get_world_size()
    t = axonic.tensor([float(r + 1), 10.0 * (r + 1)])
    dist.all_reduce(t)
    avg = axonic.tensor([float(r)])
    dist.all_reduce(avg, op=dist.ReduceOp.AVG)
    mx = axonic.tensor([float(r)])
    dist.all_reduce(mx, op=dist.ReduceOp.MAX)
    b = axonic.tensor([float(r + 7)])
    dist.broadcast(b, src=n - 1)
    got = [axonic.zeros(2) for _ in range(n)]
    dist.all_gather(got, axonic.tensor([float(r), -float(r)]))
    dist.barrier()
    return {"sum": t.tolist(), "avg": avg.tolist(), "max": mx.tolist(), "bcast": b.tolist(),
            "gather": [g.tolist() for g in got], "world": n}


def _model(kind):
    axonic.manual_seed(0)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 3))
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def _data(kind, n):
    rng = np.random.default_rng(1)
    shape = (n, 12) if kind == "mlp" else (n, 1, 8, 8)
    return (rng.normal(size=shape).astype(np.float32),
            rng.integers(0, 3, n).astype(np.int64))


def _train(model, batches, accumulate=1, ddp=None):
    opt = axonic.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for xs, ys in batches:
        opt.zero_grad()
        parts = list(zip(np.array_split(xs, accumulate), np.array_split(ys, accumulate)))
        for k, (x, y) in enumerate(parts):
            last = k == len(parts) - 1
            ctx = ddp.no_sync() if ddp is not None and not last else _Null()
            with ctx:
                loss = loss_fn(model(axonic.tensor(x)), axonic.tensor(y)) / accumulate
                loss.backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def equivalence(kind, accumulate):
    r, n = dist.get_rank(), dist.get_world_size()
    B, steps = 8, 20
    X, Y = _data(kind, n * B * steps)
    glob = [(X[s * n * B:(s + 1) * n * B], Y[s * n * B:(s + 1) * n * B]) for s in range(steps)]
    mine = [(x[r * B:(r + 1) * B], y[r * B:(r + 1) * B]) for x, y in glob]
    model = _model(kind)
    for p in model.parameters():  # ranks start apart: DDP must broadcast rank 0's weights
        p._data += r * 0.5
    ddp = DDP(model)
    ours = _train(ddp, mine, accumulate, ddp)
    ref = _train(_model(kind), glob) if r == 0 else None
    gathered = []
    for p in ours:
        out = [axonic.zeros(*p.shape) for _ in range(n)]
        dist.all_gather(out, axonic.tensor(p))
        gathered.append(out)
    if r != 0:
        return None
    rel = max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12)) for a, b in zip(ours, ref))
    spread = max(float(np.abs(o[k].numpy() - o[0].numpy()).max())
                 for o in gathered for k in range(n))
    return {"max_rel_diff": rel, "replica_spread": spread}


def trainer_run():
    """Trainer(distributed=True), batch 16 per rank, against one process with batch 32."""
    from sklearn.datasets import load_digits

    from axonic.train import Trainer

    r, n = dist.get_rank(), dist.get_world_size()
    X, y = load_digits(return_X_y=True)
    X, y = (X[:1600] / 16).astype(np.float32), y[:1600].astype(np.int64)

    def run(distributed, batch):
        axonic.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        t = Trainer(model, axonic.optim.Adam(model.parameters(), lr=0.01),
                    nn.CrossEntropyLoss(), metrics=["accuracy"], seed=3,
                    distributed=distributed)
        h = t.fit((X, y), epochs=2, batch_size=batch, verbose=0)
        return [p.detach().numpy().copy() for p in model.parameters()], h.history

    ours, hist = run(True, 16)
    if r != 0:
        return None
    ref, ref_hist = run(False, 16 * n)
    rel = max(float(np.abs(a - b).max() / (np.abs(b).max() + 1e-12)) for a, b in zip(ours, ref))
    hist_diff = max(abs(a - b) for k in ref_hist for a, b in zip(hist[k], ref_hist[k]))
    return {"max_rel_diff": rel, "history_max_diff": hist_diff,
            "keys": sorted(hist) == sorted(ref_hist)}


def killed():
    r = dist.get_rank()
    model = DDP(_model("mlp"))
    x, y = _data("mlp", 8)
    for step in range(1000):
        if r == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        loss = nn.CrossEntropyLoss()(model(axonic.tensor(x)), axonic.tensor(y))
        loss.backward()
    return {"finished": True}


def main():
    mode = sys.argv[1]
    dist.init_process_group()
    if mode == "collectives":
        out = collectives()
    elif mode == "killed":
        out = killed()
    elif mode == "trainer":
        out = trainer_run()
    else:
        kind, acc = mode.split(":")
        out = equivalence(kind, int(acc))
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps(out), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

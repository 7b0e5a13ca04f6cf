"""The harness shared by the side-by-side benchmarks: axonic against PyTorch.

Each workload script writes its model once, as ``build(fw, nn, **sizes)`` where ``fw`` is the
framework module (``axonic`` or ``torch``) and ``nn`` its ``nn``; this module builds it in both,
copies PyTorch's weights into axonic's, feeds both the same batch, trains both with Adam and
times them alternately (warm-up steps first, then the median of several timed runs).

Thread counts are fixed before NumPy or PyTorch is imported: ``cli`` re-executes the script with
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` set, so every
(workload, threads) configuration runs in a fresh process, and ``threadpoolctl`` and
``torch.set_num_threads`` pin the pools once more after import.

>>> from bench.common import median, replace_section
>>> median([3.0, 1.0, 2.0])
2.0
>>> replace_section("# T\\n", "<!-- a -->", "<!-- b -->", "x")
'# T\\n\\n<!-- a -->\\nx\\n<!-- b -->\\n'
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import importlib
import json
import os
import pstats
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("axonic", "torch")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_MARK = "AXONIC_BENCH_THREADS"  # set in the child so that ``cli`` re-executes only once


def median(values) -> float:
    """The median of a sequence of numbers."""
    return float(statistics.median(values))


def all_cores() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover  (not Linux)
        return os.cpu_count() or 1


def thread_env(threads: int, base: dict | None = None) -> dict:
    """A copy of the environment that pins every BLAS / OpenMP pool to ``threads``."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env[_MARK] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def pin_threads(threads: int) -> None:
    """Pin the native thread pools loaded so far (BLAS, OpenMP) to ``threads``."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover  (the environment variables still hold)
        return
    threadpool_limits(threads)


def pool_info() -> list[dict]:
    """The native thread pools of this process: library, version, threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return []
    return [{k: p.get(k) for k in ("internal_api", "prefix", "version", "num_threads")}
            for p in threadpool_info()]


def load_framework(name: str, threads: int | None = None):
    """Import ``axonic`` or ``torch`` and set its thread count; returns the module."""
    if name not in FRAMEWORKS:
        raise ValueError(f"load_framework: expected one of {FRAMEWORKS}, got {name!r}")
    fw = importlib.import_module(name)
    if name == "torch" and threads is not None:
        fw.set_num_threads(threads)
    return fw


def to_tensor(fw, array: np.ndarray):
    """The framework's tensor holding a private copy of ``array``."""
    return fw.from_numpy(np.array(array, copy=True))


def copy_weights(torch_model, axonic_model) -> None:
    """Load PyTorch's parameters and buffers into the axonic model of the same layout."""
    axonic_model.load_state_dict(
        {k: v.detach().numpy().copy() for k, v in torch_model.state_dict().items()})


def train_step(fw, model, inputs, target, lr: float = 1e-3) -> Callable:
    """One training step (forward, cross-entropy, backward, Adam step) as a closure."""
    loss_fn = fw.nn.CrossEntropyLoss()
    opt = importlib.import_module(fw.__name__ + ".optim").Adam(model.parameters(), lr=lr)
    model.train()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(*inputs), target)
        loss.backward()
        opt.step()
        return loss

    step.model, step.optimizer = model, opt
    return step


@dataclass
class Workload:
    """A model described once for both frameworks.

    ``build(fw, nn, **sizes)`` returns the model; ``batch(rng, samples, **sizes)`` returns
    ``(inputs, target)`` as NumPy arrays, ``samples`` being the batch size; ``sizes`` (empty:
    the benchmark's sizes) lets the smoke test build the same model tiny.
    """

    name: str
    build: Callable
    batch: Callable
    samples: int
    sizes: dict = field(default_factory=dict)

    def models(self, frameworks=FRAMEWORKS, seed: int = 0) -> dict:
        """The model built in each framework, with PyTorch's initial weights copied over."""
        out = {}
        for name in frameworks:
            fw = sys.modules.get(name) or load_framework(name)
            fw.manual_seed(seed)
            out[name] = self.build(fw, fw.nn, **self.sizes)
        if "torch" in out and "axonic" in out:
            copy_weights(out["torch"], out["axonic"])
        return out

    def data(self, seed: int = 0):
        """The same batch, as NumPy arrays, for every framework."""
        return self.batch(np.random.default_rng(seed), self.samples, **self.sizes)

    def train_steps(self, frameworks=FRAMEWORKS) -> dict:
        """A training-step closure per framework, all on the same weights and batch."""
        models = self.models(frameworks)
        inputs, target = self.data()
        steps = {}
        for name, model in models.items():
            fw = sys.modules[name]
            steps[name] = train_step(fw, model, [to_tensor(fw, a) for a in inputs],
                                     to_tensor(fw, target))
        return steps


def time_alternating(cases: dict, *, runs: int, warmup: int, steps: int | None = None,
                     target_s: float = 1.0, collect: bool = True) -> tuple[dict, dict, int]:
    """Seconds per call of each case, one entry per timed run, the cases alternating.

    Each case is called ``warmup`` times; then ``steps`` calls make a run (when ``steps`` is
    None it is chosen so that a run of the slowest case takes about ``target_s``). Run ``r``
    visits the cases in order when ``r`` is even and in reverse when odd, so neither framework
    always follows the other; with ``collect`` the garbage collector runs before each run,
    so that neither side pays for the other's garbage. Returns ``(wall, usage, steps)``:
    ``{name: [wall seconds per call, ...]}``; ``{name: {"cpu": [...], "sys": [...],
    "faults": [...]}}`` per call: the process's CPU seconds (all threads; on a shared
    machine not inflated by waiting for a core), the kernel's share of them and the minor
    page faults; and ``steps``.
    """
    names = list(cases)
    for name in names:
        for _ in range(warmup):
            cases[name]()
    if steps is None:
        slowest = 0.0
        for name in names:
            t0 = time.perf_counter()
            cases[name]()
            slowest = max(slowest, time.perf_counter() - t0)
        steps = max(1, round(target_s / max(slowest, 1e-9)))
    wall = {name: [] for name in names}
    usage = {name: {"cpu": [], "sys": [], "faults": []} for name in names}
    for r in range(runs):
        for name in (names if r % 2 == 0 else names[::-1]):
            fn = cases[name]
            if collect:
                gc.collect()
            u0 = resource.getrusage(resource.RUSAGE_SELF)
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(steps):
                fn()
            wall[name].append((time.perf_counter() - t0) / steps)
            u1 = resource.getrusage(resource.RUSAGE_SELF)
            use = usage[name]
            use["cpu"].append((time.process_time() - c0) / steps)
            use["sys"].append((u1.ru_stime - u0.ru_stime) / steps)
            use["faults"].append((u1.ru_minflt - u0.ru_minflt) / steps)
    return wall, usage, steps


def first_losses(steps: dict) -> dict:
    """The loss of each case's first step (a check that both start from the same point)."""
    return {name: float(step().item()) for name, step in steps.items()}


def compare_training(workload: Workload, *, threads: int, runs: int, warmup: int,
                     target_s: float, frameworks=FRAMEWORKS) -> dict:
    """Time the training step of ``workload`` in both frameworks; a JSON-able result."""
    steps = workload.train_steps(frameworks)
    loss0 = first_losses(steps)
    times, usage, n = time_alternating(steps, runs=runs, warmup=warmup, target_s=target_s)
    result = {"workload": workload.name, "kind": "train", "threads": threads,
              "samples": workload.samples, "runs": runs, "steps_per_run": n,
              "first_loss": loss0}
    for name, ts in times.items():
        result[name] = {"seconds_per_step": ts, "median_s": median(ts),
                        "samples_per_s": workload.samples / median(ts), "spread": spread(ts),
                        "cpu_seconds_per_step": usage[name]["cpu"],
                        "cpu_median_s": median(usage[name]["cpu"]),
                        "sys_median_s": median(usage[name]["sys"]),
                        "faults_per_step": median(usage[name]["faults"])}
    if "torch" in result and "axonic" in result:
        result["ratio"] = result["axonic"]["samples_per_s"] / result["torch"]["samples_per_s"]
        result["cpu_ratio"] = result["torch"]["cpu_median_s"] / result["axonic"]["cpu_median_s"]
    return result


def profile_calls(fn: Callable, calls: int, top: int = 12) -> dict:
    """cProfile ``calls`` calls of ``fn``; the ``top`` functions by own time, with shares."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fn()
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(row[2] for row in stats.stats.values()) or 1e-12
    rows = []
    for (path, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append({"function": _short(path, line, func), "calls": ncalls // calls,
                     "own_share": tottime / total, "cum_share": cumtime / total})
    rows.sort(key=lambda r: -r["own_share"])
    return {"total_s_per_call": total / calls, "top": rows[:top]}


def _short(path: str, line: int, func: str) -> str:
    """``axonic/ops/nn_fused.py:33 Linear.backward`` rather than a full path and a bare
    method name; built-ins as they are."""
    if path == "~":
        return func
    p = Path(path)
    parts = p.parts
    owner = _class_at(path, line)
    name = f"{owner}.{func}" if owner else func
    for anchor in ("axonic", "bench"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return f"{'/'.join(parts[i:])}:{line} {name}"
    return f"{p.name}:{line} {name}"


@functools.cache
def _source_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _class_at(path: str, line: int) -> str | None:
    """The class whose body holds the method defined at ``line`` (None for a function)."""
    lines = _source_lines(path)
    if not 0 < line <= len(lines) or not lines[line - 1].startswith((" ", "\t")):
        return None
    for text in reversed(lines[:line - 1]):
        if text.startswith("class "):
            return text[6:].split("(")[0].split(":")[0].strip()
        if text and not text[0].isspace() and not text.startswith(("#", "@", ")")):
            return None
    return None


def format_profile(profile: dict) -> str:
    """A profile as plain-text lines: own share, cumulative share, calls per step, function."""
    lines = [f"  {profile['total_s_per_call'] * 1e3:.2f} ms per step under the profiler",
             "  own%   cum%  calls/step  function"]
    for r in profile["top"]:
        lines.append(f"  {100 * r['own_share']:4.1f}  {100 * r['cum_share']:5.1f}  "
                     f"{r['calls']:10d}  {r['function']}")
    return "\n".join(lines)


def replace_section(text: str, start: str, end: str, body: str) -> str:
    """``text`` with everything between the markers ``start`` and ``end`` replaced by ``body``;
    the marked section is appended when the markers are absent."""
    block = f"{start}\n{body.strip()}\n{end}"
    i, j = text.find(start), text.find(end)
    if i >= 0 and j > i:
        return text[:i] + block + text[j + len(end):]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def cli(run: Callable, description: str, argv=None, alone: bool = False) -> dict:
    """The command line every workload script shares.

    ``run(threads=, quick=, profile=)`` returns a JSON-able result. ``--threads N`` (default:
    all cores) re-executes the script with the pools pinned before import; ``--json`` prints
    the result as one line of JSON (what ``run_all.py`` reads); ``--profile`` adds a cProfile
    summary of the axonic side. With ``alone``, ``--alone`` is offered and passed on to
    ``run``: axonic timed by itself, PyTorch never imported (as a user runs it).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=all_cores())
    parser.add_argument("--quick", action="store_true", help="few short runs (a smoke run)")
    parser.add_argument("--profile", action="store_true", help="cProfile the axonic side")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    if alone:
        parser.add_argument("--alone", action="store_true",
                            help="time axonic by itself, without importing PyTorch")
    args = parser.parse_args(argv)
    if os.environ.get(_MARK) != str(args.threads):
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable, *sys.argv], thread_env(args.threads))
    extra = {"alone": args.alone} if alone else {}
    result = run(threads=args.threads, quick=args.quick, profile=args.profile, **extra)
    result["pools"] = pool_info()
    if args.json:
        print(json.dumps(result))
    else:
        print(format_result(result))
    return result


def spread(values) -> float:
    """Half the interquartile range of ``values`` relative to their median: how noisy the
    runs were, not swayed by one run that another process slowed down."""
    q1, q3 = np.percentile(values, [25, 75])
    return float((q3 - q1) / (2 * median(values)))


def display(side: dict) -> str:
    """One framework's number as text: its own ``display`` or its throughput (and spread)."""
    if side.get("display"):
        return side["display"]
    noise = f" ±{100 * side['spread']:.0f}%" if "spread" in side else ""
    return f"{side['samples_per_s']:.0f} samples/s{noise}"


def format_result(result: dict) -> str:
    """A result as a few human-readable lines."""
    if "error" in result:
        return f"{result['workload']}: error: {result['error']}"
    lines = [f"{result['workload']} ({result['threads']} thread(s))"]
    for name in FRAMEWORKS:
        if name in result:
            side = result[name]
            kernel = (f"; CPU {side['cpu_median_s'] * 1e3:.1f} ms/step, kernel "
                      f"{side['sys_median_s'] * 1e3:.1f} ms, {side['faults_per_step']:.0f} "
                      "page faults" if "faults_per_step" in side else "")
            lines.append(f"  {name:7s} {display(side)}{kernel}")
    if "ratio" in result:
        lines.append(f"  ratio axonic/PyTorch: {result['ratio']:.2f}")
    if "cpu_ratio" in result:
        lines.append(f"  ratio by CPU time: {result['cpu_ratio']:.2f}")
    if "numpy_floor_s" in result:
        lines.append(f"  bare NumPy floor: {result['numpy_floor_s'] * 1e6:.1f} us/call")
    if "first_loss" in result:
        lines.append(f"  first loss: {result['first_loss']}")
    if "profile" in result:
        lines.append("  axonic profile:\n" + format_profile(result["profile"]))
    return "\n".join(lines)


def settings(quick: bool) -> dict:
    """Runs, warm-up steps and seconds per run: the full suite, or a fast smoke run."""
    if quick:
        return {"runs": 3, "warmup": 2, "target_s": 0.1}
    # short runs, many of them: the alternation then follows the load of a shared machine
    return {"runs": 11, "warmup": 5, "target_s": 0.6}


def training_main(workload: Workload, description: str, argv=None) -> dict:
    """``cli`` for a training workload: time both frameworks, profile axonic on request."""

    def run(threads, quick, profile, alone):
        frameworks = ("axonic",) if alone else FRAMEWORKS
        for name in frameworks:
            load_framework(name, threads)
        pin_threads(threads)
        result = compare_training(workload, threads=threads, frameworks=frameworks,
                                  **settings(quick))
        if profile:
            step = workload.train_steps(("axonic",))["axonic"]
            step()
            t0 = time.perf_counter()
            step()
            # a few seconds of steps, so that other load on the machine averages out
            calls = round((0.3 if quick else 4.0) / (time.perf_counter() - t0))
            result["profile"] = profile_calls(step, min(max(calls, 3), 1000))
        return result

    return cli(run, description, argv, alone=True)

"""The intra-op thread pool: chunked kernels give the plain call's bits, on any layout."""

import contextlib
import multiprocessing
import sys
import threading

import numpy as np
import pytest

import axonic
from axonic.backend import threads

BIG = threads.MIN_PARALLEL_SIZE * 2 + 123  # above the threshold, not a multiple of anything
SMALL = threads.MIN_PARALLEL_SIZE // 4


@pytest.fixture(autouse=True)
def enabled(monkeypatch):
    """The pool is off by default (AXONIC_INTRA_OP); these tests check it switched on."""
    monkeypatch.setattr(threads, "ENABLED", True)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def nthreads(request):
    before = threads.get_num_threads()
    threads.set_num_threads(request.param)
    yield request.param
    threads.set_num_threads(before)


@pytest.fixture
def two_threads():
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    yield 2
    threads.set_num_threads(before)


@pytest.fixture
def splits(monkeypatch):
    """The number of chunks each split call ran, in order (an op that never splits shows
    nothing here)."""
    seen = []
    run = threads._run

    def counting(fn, ranges):
        seen.append(len(ranges))
        return run(fn, ranges)

    monkeypatch.setattr(threads, "_run", counting)
    return seen


def _relu(o, x):
    np.maximum(x, 0, out=o)


def _layouts(n, dtype):
    """The same kind of values as C-contiguous, transposed, strided and channels-last arrays,
    with signed zeros, NaN and infinities among them."""
    rng = np.random.default_rng(n)
    values = rng.standard_normal(2 * n).astype(dtype)
    values[:6] = [-0.0, 0.0, np.nan, -np.inf, np.inf, -np.nan]
    side = int(np.sqrt(n // 8)) // 2 * 2
    return {"contiguous": values[:n].copy(),
            "transposed": values[:8 * side * side].reshape(8, side, side).transpose(2, 1, 0),
            "strided": values[::2],
            "channels_last": values[:8 * side * side].reshape(
                2, side, side // 2, 8).transpose(0, 3, 1, 2)}


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [SMALL, BIG], ids=["below", "above"])
def test_parallel_apply_is_bit_identical_on_every_layout(nthreads, dtype, n):
    for name, x in _layouts(n, dtype).items():
        got = threads.parallel_apply(_relu, np.empty_like(x), x)
        assert np.array_equal(_bits(got), _bits(np.maximum(x, 0))), name


def test_large_arrays_really_run_on_several_threads(two_threads):
    seen, second_started = [], threading.Event()
    x = np.ones(BIG, np.float32)
    out = np.empty_like(x)

    def record(a, b):
        if a > 0:
            second_started.set()
        else:  # the caller's chunk waits, so the caller cannot take the other one too
            assert second_started.wait(30)
        seen.append((threading.get_ident(), b - a))
        np.negative(x[a:b], out=out[a:b])

    threads.parallel_for(record, x)
    assert len({t for t, _ in seen}) == 2 and sum(s for _, s in seen) == BIG
    assert (out == -1).all()


def test_the_caller_takes_chunks_no_pool_thread_has_started(two_threads):
    """On a busy machine a worker may wait for a core: the caller does not wait for it."""
    release, ran = threading.Event(), []
    threads.parallel_for(lambda a, b: None, np.empty((2, BIG)))  # the pool exists
    blocker = threads._executor().submit(release.wait, 30)  # the one pool thread is busy
    try:
        threads.parallel_for(lambda a, b: ran.append((threading.get_ident(), a, b)),
                             np.empty((10, BIG)))
    finally:
        release.set()
        blocker.result(30)
    assert ran == [(threading.get_ident(), 0, 5), (threading.get_ident(), 5, 10)]


def test_small_arrays_and_one_thread_run_as_one_call(nthreads):
    calls = []
    big = np.ones(BIG)
    threads.parallel_apply(lambda o, x: calls.append(o.size), np.empty(SMALL), np.ones(SMALL))
    threads.parallel_apply(lambda o, x: calls.append(o.size), np.empty_like(big), big)
    assert calls[0] == SMALL
    half = BIG // 2 // 16 * 16  # cut on a whole cache line
    assert sorted(calls[1:]) == ([BIG] if nthreads == 1 else [BIG - half, half][::-1])


def test_in_place_kernels_split_and_partial_overlap_falls_back(two_threads):
    x = np.arange(BIG, dtype=np.float64)
    threads.parallel_apply(lambda o, a: np.multiply(a, 2, out=o), x, x)
    assert np.array_equal(x, 2 * np.arange(BIG))
    calls = []

    def shift_add(o, a):
        calls.append(o.size)
        np.add(a, 1, out=o)

    y = np.arange(BIG + 1, dtype=np.float64)
    expected = y[:-1] + 1
    threads.parallel_apply(shift_add, y[1:], y[:-1])  # out overlaps the input one step on
    assert calls == [BIG] and np.array_equal(y[1:], expected)


def test_broadcast_and_mismatched_shapes_run_as_one_call(two_threads):
    calls = []

    def add(o, a):
        calls.append(o.shape)
        np.add(o, a, out=o)

    out = np.zeros((BIG // 64, 64))
    threads.parallel_apply(add, out, np.broadcast_to(np.arange(64.0), out.shape))
    threads.parallel_apply(add, out, np.ones((1, 64)))
    assert calls[-1] == out.shape and np.array_equal(out[0], np.arange(64.0) + 1)
    assert len(calls) == 3  # the broadcast view (same shape) splits; the (1, 64) does not


def test_parallel_for_covers_every_row_once(nthreads):
    hits = np.zeros(1000, np.int64)

    def mark(a, b):
        hits[a:b] += 1

    threads.parallel_for(mark, np.empty((1000, BIG // 1000 + 1)))
    threads.parallel_for(mark, np.empty((1, BIG)))  # one row: nothing to split
    expected = np.ones(1000, np.int64)
    expected[0] += 1
    assert np.array_equal(hits, expected)


def test_an_error_in_any_chunk_is_raised_after_all_chunks_finish(two_threads):
    done = []

    def fail_second(a, b):
        if a > 0:
            raise ValueError("second chunk failed")
        done.append((a, b))

    with pytest.raises(ValueError, match="second chunk failed"):
        threads.parallel_for(fail_second, np.empty((10, BIG // 10 + 1)))
    assert done == [(0, 5)]
    threads.parallel_for(lambda a, b: done.append((a, b)), np.empty((10, BIG // 10 + 1)))
    assert sorted(done[1:]) == [(0, 5), (5, 10)]


def test_nested_calls_inside_the_pool_run_plain(two_threads):
    inner = []

    def outer(a, b):
        threads.parallel_for(lambda i, j: inner.append((i, j)), np.empty((4, BIG)))

    threads.parallel_for(outer, np.empty((2, BIG)))
    assert sorted(inner) == [(0, 4), (0, 4)]


def test_set_num_threads_sets_blas_too(nthreads):
    from threadpoolctl import threadpool_info

    # NumPy's BLAS; oneMKL, where axonic.backend.blas loaded it, runs its sequential layer
    blas = [p["num_threads"] for p in threadpool_info()
            if p["user_api"] == "blas" and p["internal_api"] != "mkl"]
    assert blas and set(blas) == {nthreads}
    assert axonic.get_num_threads() == threads.get_num_threads() == nthreads


def test_set_num_threads_rejects_a_bad_count():
    for bad in (0, -2, 1.5, "2", True):
        with pytest.raises(ValueError, match=r"set_num_threads: expected a positive int, got "):
            axonic.set_num_threads(bad)


def test_set_num_threads_without_threadpoolctl_warns_and_sets_the_pool(monkeypatch):
    before = threads.get_num_threads()
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    try:
        with pytest.warns(RuntimeWarning, match=r"pip install 'axonic\[threads\]'"):
            threads.set_num_threads(3)
        assert threads.get_num_threads() == 3
    finally:
        monkeypatch.undo()
        threads.set_num_threads(before)


def test_default_thread_count_falls_back_to_omp_num_threads(monkeypatch):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads._default_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "")
    assert threads._default_threads() >= 1


def _child_relu(queue):
    x = np.linspace(-1.0, 1.0, BIG)
    queue.put(float(threads.parallel_apply(_relu, np.empty_like(x), x).sum()))


@pytest.mark.skipif(not hasattr(multiprocessing, "get_context") or sys.platform != "linux",
                    reason="fork start method")
def test_a_forked_child_gets_its_own_pool(two_threads):
    x = np.linspace(-1.0, 1.0, BIG)
    threads.parallel_apply(_relu, np.empty_like(x), x)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_relu, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and got == float(np.maximum(x, 0).sum())


# --- the ops that use the pool: bits equal to one thread's ------------------------------


def _relu_step(x):
    t = axonic.from_numpy(x).requires_grad_()
    y = t.relu()
    y.backward(axonic.tensor(_grad_for(x)))
    return y.detach().numpy().copy(), t.grad.numpy().copy()


def _grad_for(x):
    """An incoming gradient with negative values, zeros and a NaN where x is finite."""
    g = np.cos(np.nan_to_num(x, posinf=1.0, neginf=-1.0) * 3)
    g[..., -1] = np.nan
    return g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_and_backward_are_bit_identical_to_numpy(nthreads, dtype, splits):
    for n in (SMALL, BIG):
        for name, x in _layouts(n, dtype).items():
            y, dx = _relu_step(x)
            assert np.array_equal(_bits(y), _bits(np.maximum(x, 0))), name
            assert np.array_equal(_bits(dx), _bits(_grad_for(x) * (np.maximum(x, 0) > 0))), name
    assert splits == ([] if nthreads == 1 else [2] * 8)  # forward and backward, 4 layouts


def _channels_last(shape, dtype, seed=0):
    """(N, C, H, W) values in (N, H, W, C) memory, as a convolution returns them."""
    n, c, h, w = shape
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, h, w, c)).astype(dtype).transpose(0, 3, 1, 2)


def _pool_inputs(dtype):
    x = _channels_last((8, 32, 28, 28), dtype)  # 200k elements: split at 2 threads
    x[0, 0, :2, :2] = np.nan
    x[1, 1, :2, :2] = 1.0  # a tie: the first maximum takes the gradient
    return {"channels_last": x, "contiguous": np.ascontiguousarray(x),
            "no_batch": np.ascontiguousarray(x[:6]).reshape(192, 28, 28),
            "small": np.ascontiguousarray(x[:1, :4])}


POOLS = {
    "max2": lambda t: axonic.nn.functional.max_pool2d(t, 2),
    "max3_overlap_pad_dilation_ceil": lambda t: axonic.nn.functional.max_pool2d(
        t, 3, 2, padding=1, dilation=(1, 2), ceil_mode=True),
    "avg2": lambda t: axonic.nn.functional.avg_pool2d(t, 2),
    "avg3_overlap_pad_exclude": lambda t: axonic.nn.functional.avg_pool2d(
        t, 3, 2, padding=1, ceil_mode=True, count_include_pad=False),
}


def _run_op(op, x, dtype):
    t = axonic.from_numpy(x.copy(order="K")).requires_grad_()
    y = op(t)
    g = np.cos(np.arange(y.numel(), dtype=dtype)).reshape(tuple(y.shape))
    y.backward(axonic.from_numpy(g))
    return y.detach().numpy().copy(), t.grad.numpy().copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pool", list(POOLS))
def test_pooling_at_two_threads_is_bit_identical_to_one(pool, dtype, splits):
    results = {}
    for n in (1, 2):
        threads.set_num_threads(n)
        try:
            results[n] = {k: _run_op(POOLS[pool], x, dtype)
                          for k, x in _pool_inputs(dtype).items()}
        finally:
            threads.set_num_threads(2)
    for k in results[1]:
        for one, two in zip(results[1][k], results[2][k]):
            assert np.array_equal(_bits(one), _bits(two)), k
    assert splits == [2] * 6  # forward and backward of the three large inputs at 2 threads


@contextlib.contextmanager
def unsplit():
    """Nothing is split in this context (the plain calls); BLAS is left as it is."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(threads, "MIN_PARALLEL_SIZE", 1 << 62)
        yield


CONVS = {  # (layer, input shape): im2col chunks of 225k elements at 14x14x32 in
    "conv_pad": (lambda: axonic.nn.Conv2d(32, 64, 3, padding=1), (24, 32, 14, 14)),
    "conv_groups_stride": (lambda: axonic.nn.Conv2d(32, 64, 3, stride=2, padding=2, groups=2),
                           (24, 32, 15, 15)),
    "conv_transpose": (lambda: axonic.nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1),
                       (24, 32, 14, 14)),
}


def _conv_step(make, shape, dtype, layout):
    axonic.manual_seed(0)
    layer = make().to(dtype=axonic.float64 if dtype == np.float64 else axonic.float32)
    x = _channels_last(shape, dtype, seed=1)
    x = np.ascontiguousarray(x) if layout == "contiguous" else x
    t = axonic.from_numpy(x).requires_grad_()
    y = layer(t)
    y.backward(axonic.from_numpy(np.cos(np.arange(y.numel(), dtype=dtype)).reshape(
        tuple(y.shape))))
    return [a.copy() for a in (y.detach().numpy(), t.grad.numpy(), layer.weight.grad.numpy())]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("conv", list(CONVS))
def test_convolution_copies_split_across_threads_are_bit_identical(two_threads, conv, dtype,
                                                                   splits):
    for layout in ("channels_last", "contiguous"):
        split = _conv_step(*CONVS[conv], dtype, layout)
        with unsplit():
            plain = _conv_step(*CONVS[conv], dtype, layout)
        for name, a, b in zip(("output", "input grad", "weight grad"), split, plain):
            assert np.array_equal(_bits(a), _bits(b)), (layout, name)
    # float32: padding copies and im2col chunks; float64's chunks hold half the samples,
    # below the threshold, so only its padding copies split
    assert len(splits) >= (4 if dtype == np.float32 else 2)


def _adam_steps(name, dtype, **options):
    axonic.manual_seed(0)
    layer = axonic.nn.Linear(784, 320).to(dtype=axonic.float64 if dtype == np.float64
                                           else axonic.float32)  # 250k weights: split
    opt = getattr(axonic.optim, name)(layer.parameters(), lr=1e-2, **options)
    x = axonic.from_numpy(np.random.default_rng(2).standard_normal((16, 784)).astype(dtype))
    for _ in range(3):
        opt.zero_grad()
        (layer(x) ** 2).mean().backward()
        opt.step()
    return layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, options", [("Adam", {}), ("Adam", {"amsgrad": True}),
                                           ("AdamW", {"weight_decay": 0.1}),
                                           ("Adam", {"maximize": True, "weight_decay": 0.1})])
def test_adam_updates_split_across_threads_are_bit_identical(two_threads, name, options,
                                                             dtype, splits):
    split = _adam_steps(name, dtype, **options)
    with unsplit():
        plain = _adam_steps(name, dtype, **options)
    for a, b in zip(split, plain):
        assert np.array_equal(_bits(a), _bits(b))
    assert splits.count(2) >= 3  # the weight's update, once per step


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(threads)
    assert result.attempted > 0 and result.failed == 0


def test_threads_benchmark_runs_and_leaves_the_pool_as_it_was(two_threads):
    from bench.threads import run

    shipped = threads.MIN_PARALLEL_SIZE
    rows = run(1, quick=True)
    assert [r[0] for r in rows[:2]] == ["relu", "relu_grad"] and all(r[2] > 0 < r[3]
                                                                     for r in rows)
    assert threads.MIN_PARALLEL_SIZE == shipped and threads.get_num_threads() == 2
    assert threads.ENABLED


def test_off_by_default_nothing_is_split(two_threads, splits, monkeypatch):
    monkeypatch.setattr(threads, "ENABLED", False)
    calls = []
    big = np.ones(BIG)
    threads.parallel_apply(lambda o, x: calls.append(o.size), np.empty_like(big), big)
    threads.parallel_for(lambda a, b: calls.append((a, b)), np.empty((10, BIG)))
    y, dx = _relu_step(_layouts(BIG, np.float32)["contiguous"])
    assert calls == [BIG, (0, 10)] and splits == []


def test_the_switch_is_read_from_the_environment():
    import os
    import subprocess

    code = "import axonic.backend.threads as t; print(t.ENABLED)"
    got = {}
    for value in ("1", "0", None):
        env = {k: v for k, v in os.environ.items() if k != "AXONIC_INTRA_OP"}
        if value is not None:
            env["AXONIC_INTRA_OP"] = value
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=120)
        got[value] = out.stdout.strip()
    assert got == {"1": "True", "0": "False", None: "False"}

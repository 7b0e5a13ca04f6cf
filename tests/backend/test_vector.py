"""``axonic.backend.vector``: oneMKL's fused elementwise passes against NumPy, the same
numbers however the arrays are cut, the rules for what they take, and Adam's update on
them against its NumPy kernel and PyTorch."""

import platform

import numpy as np
import pytest

import axonic
from axonic.backend import blas, threads, vector

MKL_EXPECTED = platform.machine().lower() in ("x86_64", "amd64")  # the wheel's platforms
DTYPES = [np.float32, np.float64]


def _vec(dtype):
    vec = vector.functions(dtype)
    assert (vec is not None) == MKL_EXPECTED, blas.describe()
    return vec


def _ptr(a):
    return a.ctypes.data


def _ulps(got, want, dtype, scale=None):
    """Distance in units in the last place of ``dtype`` at ``scale`` (default ``want``, in
    float64): a sum's rounding is measured at the size of its terms, not of the sum."""
    scale = np.abs(want) if scale is None else scale
    spacing = np.spacing(scale.astype(dtype)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_pass_matches_numpy_in_float64_within_three_ulps(dtype):
    vec = _vec(dtype)
    if vec is None:
        return  # no oneMKL on this platform: test_found_where_the_extra_installs_it covers it
    rng = np.random.default_rng(0)
    n = 1000
    x, y = rng.uniform(0.1, 2.0, n).astype(dtype), rng.uniform(-2.0, 2.0, n).astype(dtype)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    cases = {}
    r = y.copy()
    vec.axpby(n, 0.25, _ptr(x), 0.75, _ptr(r))
    cases["axpby"] = (r, 0.25 * x64 + 0.75 * y64, 0.25 * abs(x64) + 0.75 * abs(y64))
    r = y.copy()
    vec.axpy(n, -0.5, _ptr(x), _ptr(r))
    cases["axpy"] = (r, y64 - 0.5 * x64, abs(y64) + 0.5 * abs(x64))
    r = np.empty_like(x)
    vec.sqr(n, _ptr(y), _ptr(r))
    cases["sqr"] = (r, y64 * y64)
    r = np.empty_like(x)
    vec.sqrt(n, _ptr(x), _ptr(r))
    cases["sqrt"] = (r, np.sqrt(x64))
    r = np.empty_like(x)
    vec.fmax(n, _ptr(x), _ptr(y), _ptr(r))
    cases["fmax"] = (r, np.maximum(x64, y64))
    r = np.empty_like(x)
    vec.linear_frac(n, _ptr(y), _ptr(x), -3.0, 0.5, 2.0, 1e-3, _ptr(r))
    cases["linear_frac"] = (r, (-3.0 * y64 + 0.5) / (2.0 * x64 + 1e-3),
                           (3.0 * abs(y64) + 0.5) / (2.0 * x64 + 1e-3))
    for name, (got, want, *scale) in cases.items():
        assert got.dtype == dtype
        # a result rounded once is within half an ulp; a few roundings of intermediates
        # (a*x, then + b*y; a numerator and a denominator, then their quotient) within three
        # ulps of the terms' size
        assert _ulps(got, want, dtype, *scale).max() <= 3.0, name
    # the products and the maximum are exact in one rounding: NumPy's own result
    np.testing.assert_array_equal(cases["sqr"][0], y * y)
    # oneMKL's square root is not always the correctly rounded one (NumPy's is), but within
    # one ulp of it
    assert _ulps(cases["sqrt"][0], np.sqrt(x64), dtype).max() <= 1.0
    np.testing.assert_array_equal(cases["fmax"][0], np.maximum(x, y))


@pytest.mark.parametrize("dtype", DTYPES)
def test_results_do_not_depend_on_how_the_array_is_cut(dtype):
    vec = _vec(dtype)
    if vec is None:
        return
    rng = np.random.default_rng(1)
    n = 10_007  # not a multiple of any vector width
    a, b = rng.uniform(0.1, 1, n).astype(dtype), rng.uniform(-1, 1, n).astype(dtype)

    def chain(block):
        m, out = b.copy(), np.empty(n, dtype)
        pa, pm, po = _ptr(a), _ptr(m), _ptr(out)

        def run(i, j):
            off = i * a.itemsize
            vec.axpby(j - i, 0.1, pa + off, 0.9, pm + off)
            vec.sqrt(j - i, pa + off, po + off)
            vec.linear_frac(j - i, pm + off, po + off, 0.3, 0.0, 1.7, 1e-8, po + off)

        threads.parallel_blocks(run, n, block)
        return out

    whole = chain(n)
    for block in (1, 7, 64, 4096):
        np.testing.assert_array_equal(chain(block), whole)


def test_parallel_blocks_covers_every_element_once_and_splits_across_threads(monkeypatch):
    monkeypatch.setattr(threads, "ENABLED", True)
    monkeypatch.setattr(threads, "MIN_PARALLEL_SIZE", 64)
    split = []
    real_run = threads._run
    monkeypatch.setattr(threads, "_run", lambda fn, ranges: (split.append(ranges),
                                                              real_run(fn, ranges)))
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    try:
        seen = []
        threads.parallel_blocks(lambda i, j: seen.append((i, j)), 1000, block=100)
    finally:
        threads.set_num_threads(before)
    assert sorted(seen) == [(i, i + 100) for i in range(0, 1000, 100)]
    assert split == [[(0, 500), (500, 1000)]]  # one share per thread, cut between blocks
    seen.clear()
    threads.parallel_blocks(lambda i, j: seen.append((i, j)), 0, block=100)
    assert seen == []


def test_run_blocks_gives_each_block_the_addresses_of_its_elements(monkeypatch):
    monkeypatch.setattr(threads, "CACHE_BLOCK", 4)
    a, b = np.arange(10, dtype=np.float64), np.zeros(10, np.float64)
    seen = []
    vector.run_blocks((a, b), lambda n, pa, pb: seen.append((n, pa - _ptr(a), pb - _ptr(b))))
    assert sorted(seen, key=lambda s: s[1]) == [(4, 0, 0), (4, 32, 32), (2, 64, 64)]  # bytes
    assert vector.functions_for(a, b) is vector.functions(np.float64)
    assert vector.functions_for(a, a[::-1]) is None


def test_takes_only_same_sized_contiguous_float_arrays_that_do_not_overlap():
    a = np.zeros(8, np.float32)
    b = np.zeros(8, np.float32)
    assert vector.takes(a, b, a)  # the same array twice: an in-place pass
    assert not vector.takes(a, np.zeros(8, np.float64))
    assert not vector.takes(np.zeros(8, np.int32), np.zeros(8, np.int32))
    assert not vector.takes(a, np.zeros(9, np.float32))
    assert not vector.takes(a, np.zeros(16, np.float32)[::2])
    assert not vector.takes(a, a[::-1])  # overlaps a, reversed
    wide = np.zeros(12, np.float32)
    assert not vector.takes(wide[:8], wide[4:])  # partial overlap
    assert not vector.takes(a, [0.0] * 8)
    assert vector.takes(np.zeros((3, 4), np.float64), np.ones(12, np.float64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_functions_for_other_dtypes_or_with_axonic_blas_numpy(monkeypatch, dtype):
    assert vector.functions(np.int64) is None
    assert vector.functions(np.float16) is None
    monkeypatch.setenv("AXONIC_BLAS", "numpy")
    blas.reset()
    try:
        assert vector.functions(dtype) is None
    finally:
        monkeypatch.delenv("AXONIC_BLAS")
        blas.reset()
    assert (vector.functions(dtype) is not None) == MKL_EXPECTED


def test_found_where_the_extra_installs_it():
    assert (vector.functions(np.float32) is not None) == MKL_EXPECTED, blas.describe()


# --- Adam on the fused passes -------------------------------------------------------------
def _adam_run(dtype, steps=20, **kwargs):
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal((300, 500)).astype(dtype)  # 150,000 elements: several blocks
    b0 = rng.standard_normal(7).astype(dtype)
    ws = [axonic.nn.Parameter(axonic.tensor(w0.copy())),
          axonic.nn.Parameter(axonic.tensor(b0.copy()))]
    opt = axonic.optim.AdamW(ws, **kwargs) if kwargs.pop("decoupled", False) else \
        axonic.optim.Adam(ws, **kwargs)
    for _ in range(steps):
        for w in ws:
            w.grad = axonic.tensor(rng.standard_normal(w.shape).astype(dtype))
        opt.step()
    return [w.detach().numpy().copy() for w in ws], opt


KWARGS = [dict(lr=1e-2), dict(lr=1e-2, amsgrad=True), dict(lr=1e-2, weight_decay=0.1,
                                                                 maximize=True),
          dict(lr=1e-2, weight_decay=0.3, decoupled=True, amsgrad=True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", KWARGS, ids=lambda k: "-".join(map(str, k.items())))
def test_adam_on_the_fused_passes_matches_the_numpy_kernel(monkeypatch, dtype, kwargs):
    calls = []
    real = vector.functions

    def counting(dt):
        calls.append(dt)
        return real(dt)

    monkeypatch.setattr(vector, "functions", counting)
    fused, opt = _adam_run(dtype, **dict(kwargs))
    assert len(calls) == 40  # every update asked for them
    monkeypatch.setattr(vector, "functions", lambda dt: None)
    plain, _ = _adam_run(dtype, **dict(kwargs))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for f, p in zip(fused, plain):
        np.testing.assert_allclose(f, p, rtol=tol, atol=tol)
    if MKL_EXPECTED:  # the two paths differ by roundings: they are not the same code
        assert any(not np.array_equal(f, p) for f, p in zip(fused, plain))
    assert all(s["step"].item() == 20 for s in opt.state.values())


def test_adam_fused_update_is_the_same_at_two_threads(monkeypatch):
    one, _ = _adam_run(np.float32, lr=1e-2, amsgrad=True)
    monkeypatch.setattr(threads, "ENABLED", True)
    monkeypatch.setattr(threads, "MIN_PARALLEL_SIZE", 1 << 10)
    monkeypatch.setattr(threads, "CACHE_BLOCK", 1 << 12)
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    try:
        two, _ = _adam_run(np.float32, lr=1e-2, amsgrad=True)
    finally:
        threads.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_adam_falls_back_for_arrays_the_passes_cannot_walk():
    # a parameter whose gradient is a non-contiguous view: the NumPy kernel runs
    w = axonic.nn.Parameter(axonic.tensor(np.ones((4, 6), np.float32)))
    g = np.arange(48, dtype=np.float32).reshape(4, 12)[:, ::2]
    assert not vector.takes(w.detach().numpy(), g)
    opt = axonic.optim.Adam([w], lr=0.1)
    w.grad = axonic.tensor(g)
    w.grad._data = g  # keep the strided view the tensor would otherwise copy
    opt.step()
    # step 1 of Adam moves every parameter with a non-zero gradient by lr
    expect = np.where(g != 0, 1.0 - 0.1, 1.0).astype(np.float32)
    np.testing.assert_allclose(w.detach().numpy(), expect, rtol=1e-6)


# --- SGD with momentum on the fused passes ---------------------------------------------
def _sgd_run(dtype, **kwargs):
    rng = np.random.default_rng(4)
    w = axonic.nn.Parameter(axonic.tensor(rng.standard_normal((200, 300)).astype(dtype)))
    opt = axonic.optim.SGD([w], **kwargs)
    for _ in range(10):
        w.grad = axonic.tensor(rng.standard_normal(w.shape).astype(dtype))
        opt.step()
    return w.detach().numpy().copy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", [dict(lr=0.1, momentum=0.9),
                                    dict(lr=0.05, momentum=0.5, dampening=0.3,
                                         weight_decay=0.01, maximize=True)],
                         ids=["momentum", "dampening-decay-maximize"])
def test_sgd_momentum_on_the_fused_passes_matches_the_numpy_kernel(monkeypatch, dtype,
                                                                   kwargs):
    calls = []
    real = vector.functions
    monkeypatch.setattr(vector, "functions", lambda dt: calls.append(dt) or real(dt))
    fused = _sgd_run(dtype, **kwargs)
    assert len(calls) == 9  # every step after the first (which creates the buffer)
    monkeypatch.setattr(vector, "functions", lambda dt: None)
    plain = _sgd_run(dtype, **kwargs)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fused, plain, rtol=tol, atol=tol)


# --- RMSprop and Adagrad on the fused passes ----------------------------------------------
def _opt_run(name, dtype, kwargs, steps=10):
    rng = np.random.default_rng(5)
    w = axonic.nn.Parameter(axonic.tensor(rng.standard_normal((200, 300)).astype(dtype)))
    opt = getattr(axonic.optim, name)([w], **kwargs)
    for _ in range(steps):
        w.grad = axonic.tensor(rng.standard_normal(w.shape).astype(dtype))
        opt.step()
    return w.detach().numpy().copy()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs,fused", [
    ("RMSprop", dict(lr=1e-2), True),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, momentum=0.9, weight_decay=0.1), True),
    ("RMSprop", dict(lr=1e-3, centered=True), False),  # centered: the NumPy kernel
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, maximize=True), True),
], ids=["rmsprop", "rmsprop-momentum", "rmsprop-centered", "adagrad"])
def test_rmsprop_and_adagrad_on_the_fused_passes_match_the_numpy_kernel(
        monkeypatch, dtype, name, kwargs, fused):
    calls = []
    real = vector.functions
    monkeypatch.setattr(vector, "functions", lambda dt: calls.append(dt) or real(dt))
    got = _opt_run(name, dtype, kwargs)
    assert len(calls) == (10 if fused else 0)
    monkeypatch.setattr(vector, "functions", lambda dt: None)
    plain = _opt_run(name, dtype, kwargs)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, plain, rtol=tol, atol=tol)

"""``axonic.backend.blas``: products on oneMKL at one thread, NumPy's BLAS otherwise; the
same values (within float rounding) for every operand layout, NumPy's own result for
everything the rules send back, and layers at PyTorch parity on the oneMKL path."""

import platform

import numpy as np
import pytest

import axonic
from axonic.backend import blas, threads

MKL_EXPECTED = platform.machine().lower() in ("x86_64", "amd64")  # the wheel's platforms


@pytest.fixture
def one_thread(monkeypatch):
    """One thread, and oneMKL for products from 1024 multiply-adds (the shipped threshold
    is for speed; these tests want the small shapes on oneMKL too)."""
    monkeypatch.setattr(blas, "MIN_WORK", 1 << 10)
    before = threads.get_num_threads()
    threads.set_num_threads(1)
    yield
    threads.set_num_threads(before)


@pytest.fixture
def counted(monkeypatch):
    """How many products reached oneMKL's gemm."""
    calls = []
    if blas.backend() == "mkl":
        table = dict(blas._state["gemm"])
        for dtype, fn in table.items():
            def wrapped(*args, _fn=fn):
                calls.append(args[3:6])  # m, n, k
                return _fn(*args)
            table[dtype] = wrapped
        monkeypatch.setitem(blas._state, "gemm", table)
    return calls


def test_mkl_is_found_where_the_extra_installs_it():
    # the test extra installs ``mkl`` on x86-64: there the backend must be oneMKL
    assert blas.backend() == ("mkl" if MKL_EXPECTED else "numpy"), blas.describe()
    assert blas.describe().startswith("oneMKL" if MKL_EXPECTED else "NumPy")


def _forms(x):
    """The same matrix as C order, Fortran order, a transposed view and a row slice."""
    wide = np.zeros((x.shape[0], x.shape[1] + 5), x.dtype)
    wide[:, :x.shape[1]] = x
    return {"C": np.ascontiguousarray(x), "F": np.asfortranarray(x),
            "T": np.ascontiguousarray(x.T).T, "slice": wide[:, :x.shape[1]]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(64, 48, 40), (1, 512, 256), (128, 33, 7), (40, 1, 900)])
def test_every_layout_matches_numpy(one_thread, counted, dtype, m, k, n):
    rng = np.random.default_rng(m * k + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    want = a.astype(np.float64) @ b.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    big = m * n * k >= blas.MIN_WORK and min(m, n) >= blas.MIN_SIDE
    for fa, av in _forms(a).items():
        for fb, bv in _forms(b).items():
            got = blas.matmul(av, bv)
            assert got.dtype == dtype and got.shape == (m, n), (fa, fb)
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(k), err_msg=fa + fb)
            out = np.full((m, n + 3), np.nan, dtype)[:, :n]  # rows wider than n: ldc > n
            assert blas.matmul(av, bv, out=out) is out
            np.testing.assert_allclose(out, want, rtol=tol, atol=tol * np.sqrt(k))
    if MKL_EXPECTED:  # 16 layouts, twice each (without and with out=) when large enough
        assert len(counted) == (32 if big else 0)
        assert all(c == (m, n, k) for c in counted)


@pytest.mark.parametrize("case", ["strided", "overlap", "small", "int", "float16", "batched",
                                  "mixed", "empty", "vector", "out_fortran"])
def test_what_the_rules_send_back_is_numpys_result(one_thread, counted, case):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((96, 80)).astype(np.float32)
    b = rng.standard_normal((80, 70)).astype(np.float32)
    out = None
    if case == "strided":
        a = rng.standard_normal((96, 160)).astype(np.float32)[:, ::2]  # no unit stride
    elif case == "small":
        a, b = a[:8, :8], b[:8, :8]
    elif case == "int":
        a, b = (a * 10).astype(np.int64), (b * 10).astype(np.int64)
    elif case == "float16":
        a, b = a.astype(np.float16), b.astype(np.float16)
    elif case == "batched":
        a, b = np.stack([a, a]), np.stack([b, b])
    elif case == "mixed":
        b = b.astype(np.float64)
    elif case == "empty":
        a, b = a[:0], b
    elif case == "vector":
        b = b[:, 0]
    elif case == "out_fortran":
        out = np.empty((96, 70), np.float32, order="F")
    if case == "overlap":  # out is a view of a: NumPy buffers it, BLAS would not
        buf = rng.standard_normal((96, 96)).astype(np.float32)
        a, b = buf[:, :80], buf[:80, :70].copy()
        want = np.matmul(a, b)
        got = blas.matmul(a, b, out=buf[:, 10:80])
        np.testing.assert_array_equal(got, want)
    else:
        want = np.matmul(a, b, out=None if out is None else np.empty_like(out))
        got = blas.matmul(a, b, out=out)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype
    assert counted == []


@pytest.mark.parametrize("m,k,n,used", [(196, 288, 64, False), (32, 512, 256, True),
                                         (2, 4096, 4096, False), (4096, 4096, 2, False),
                                         (3, 2048, 1024, True)])
def test_shipped_threshold(monkeypatch, counted, m, k, n, used):
    monkeypatch.setattr(threads, "_num_threads", 1)
    a = np.ones((m, k), np.float32)
    b = np.ones((k, n), np.float32)
    np.testing.assert_array_equal(blas.matmul(a, b), np.full((m, n), k, np.float32))
    assert len(counted) == (1 if used and MKL_EXPECTED else 0)


def test_shape_mismatch_is_numpys_error(one_thread):
    a, b = np.ones((64, 64), np.float32), np.ones((65, 64), np.float32)
    with pytest.raises(ValueError, match="matmul"):
        blas.matmul(a, b)


def test_more_threads_use_numpys_blas(counted):
    before = threads.get_num_threads()
    threads.set_num_threads(2)
    try:
        a = np.ones((128, 128), np.float32)
        np.testing.assert_array_equal(blas.matmul(a, a), np.matmul(a, a))
    finally:
        threads.set_num_threads(before)
    assert counted == []


def test_axonic_blas_setting(monkeypatch):
    try:
        monkeypatch.setenv("AXONIC_BLAS", "numpy")
        blas.reset()
        assert blas.backend() == "numpy" and "AXONIC_BLAS=numpy" in blas.describe()
        monkeypatch.setenv("AXONIC_BLAS", "openblas")
        blas.reset()
        with pytest.raises(ValueError, match="AXONIC_BLAS.*'openblas'"):
            blas.backend()
        monkeypatch.setenv("AXONIC_BLAS", "mkl")
        monkeypatch.setattr(blas, "_library_paths", lambda: [])
        blas.reset()
        with pytest.raises(RuntimeError, match=r"AXONIC_BLAS=mkl.*pip install 'axonic\[mkl\]'"):
            blas.backend()
        monkeypatch.setenv("AXONIC_BLAS", "auto")
        blas.reset()
        assert blas.backend() == "numpy" and "not installed" in blas.describe()
        monkeypatch.setattr(blas, "_library_paths", lambda: ["/nonexistent/libmkl_rt.so.3"])
        blas.reset()
        assert blas.backend() == "numpy" and "would not load" in blas.describe()
    finally:
        monkeypatch.undo()
        blas.reset()
    assert blas.backend() == ("mkl" if MKL_EXPECTED else "numpy")


# --- layers on the oneMKL path, against PyTorch on the same weights --------------------------

torch = pytest.importorskip("torch")


def _parity(ax_layer, t_layer, x, rtol=2e-5, atol=2e-5):
    ax_layer.load_state_dict({k: axonic.tensor(v.detach().numpy())
                              for k, v in t_layer.state_dict().items()})
    xa = axonic.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ya, yt = ax_layer(xa), t_layer(xt)
    ya, yt = (ya[0], yt[0]) if isinstance(ya, tuple) else (ya, yt)
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    ga = np.random.default_rng(1).standard_normal(ya.shape).astype(np.float32)
    ya.backward(axonic.tensor(ga))
    yt.backward(torch.tensor(ga))
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    grads = dict(t_layer.named_parameters())
    for name, p in ax_layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-4,
                                   atol=1e-4, err_msg=name)


@pytest.mark.parametrize("kind", ["Linear", "Conv2d", "LSTM", "GRU", "RNN"])
def test_layers_on_mkl_match_pytorch(one_thread, counted, kind):
    rng = np.random.default_rng(2)
    torch.manual_seed(0)
    if kind == "Linear":
        args, x = (200, 120), rng.standard_normal((64, 200))
    elif kind == "Conv2d":
        args, x = (8, 16, 3), rng.standard_normal((4, 8, 20, 20))
    else:
        args, x = (24, 96), rng.standard_normal((7, 16, 24))
    x = x.astype(np.float32)
    _parity(getattr(axonic.nn, kind)(*args), getattr(torch.nn, kind)(*args), x)
    assert len(counted) >= 2 if MKL_EXPECTED else counted == []


def test_matmul_op_gradients_on_mkl(one_thread, counted):
    rng = np.random.default_rng(3)
    a = axonic.tensor(rng.standard_normal((50, 60)), requires_grad=True)
    b = axonic.tensor(rng.standard_normal((60, 70)), requires_grad=True)
    g = rng.standard_normal((50, 70))
    (a @ b).backward(axonic.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), g @ b.detach().numpy().T, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), a.detach().numpy().T @ g, rtol=1e-12)
    assert len(counted) == (3 if MKL_EXPECTED else 0)  # float64: dgemm


def test_fixed_left_reads_pointers_once_and_matches(one_thread, counted, monkeypatch):
    rng = np.random.default_rng(4)
    w = rng.standard_normal((96, 40)).astype(np.float32)
    stack = rng.standard_normal((5, 40, 8)).astype(np.float32)  # per-step right-hand sides
    outs = np.empty((5, 96, 8), np.float32)
    run = blas.fixed_left(w, 8)
    assert (run is not None) == MKL_EXPECTED
    if run is None:
        return
    reads = []
    real = blas._pointer
    monkeypatch.setattr(blas, "_pointer", lambda a: reads.append(1) or real(a))
    zs, os_ = list(stack), list(outs)  # views made once, as the recurrent kernels do
    for _ in range(3):  # the same arrays each pass: their pointers are read the first time
        for z, out in zip(zs, os_):
            assert run(z, out) is out
    monkeypatch.undo()
    assert len(reads) == 10 and len(counted) == 15  # w's pointer was read before
    np.testing.assert_allclose(outs, np.einsum("mk,tkn->tmn", w.astype(np.float64), stack),
                               rtol=1e-4, atol=1e-4)
    # a pair oneMKL cannot take (out overlaps z; z in the wrong order) is NumPy's product
    buf = rng.standard_normal((96, 40)).astype(np.float32)
    for z, out in ((buf[:40, :8], buf[:, 10:18]), (np.asfortranarray(stack[0]), outs[0])):
        want = np.matmul(w, z.copy())
        np.testing.assert_allclose(run(z, out), want, rtol=1e-4, atol=1e-4)
    assert len(counted) == 15


def test_fixed_left_declines_what_matmul_would_not_send(one_thread, monkeypatch):
    w = np.ones((96, 40), np.float32)
    assert blas.fixed_left(w[:, ::2], 8) is None  # no unit stride
    assert blas.fixed_left(w.astype(np.float16), 8) is None
    assert blas.fixed_left(w, 2) is None  # matrix-vector shapes stay with NumPy
    monkeypatch.setattr(blas, "MIN_WORK", 1 << 30)
    assert blas.fixed_left(w, 8) is None

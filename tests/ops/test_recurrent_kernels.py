"""The fused recurrent kernels (``axonic.ops.recurrent``) on their own: float64 gradcheck
of each in every variant (direction, bias, batch of one), gradients when only some inputs
need one, what backward keeps and frees, and the errors they raise."""

import numpy as np
import pytest

import axonic
from axonic.autograd import gradcheck
from axonic.ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _call(kind, x, w_ih, w_hh, b_ih, b_hh, *states, reverse=False):
    if kind == "lstm":
        return lstm_sequence(x, w_ih, w_hh, b_ih, b_hh, *states, reverse=reverse)
    if kind == "gru":
        return gru_sequence(x, w_ih, w_hh, b_ih, b_hh, *states, reverse=reverse)
    return rnn_sequence(x, w_ih, w_hh, b_ih, b_hh, *states, reverse=reverse,
                        nonlinearity=kind[4:])


def _inputs(kind, T=3, B=2, n_in=3, H=2, bias=(True, True), dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    G = GATES[kind] * H

    def leaf(*shape):
        return axonic.tensor(rng.uniform(-1, 1, shape).astype(dtype), requires_grad=True)

    x, w_ih, w_hh = leaf(T, B, n_in), leaf(G, n_in), leaf(G, H)
    b_ih = leaf(G) if bias[0] else None
    b_hh = leaf(G) if bias[1] else None
    states = [leaf(B, H) for _ in range(2 if kind == "lstm" else 1)]
    return [x, w_ih, w_hh, b_ih, b_hh, *states]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [(True, True), (False, False), (True, False), (False, True)])
@pytest.mark.parametrize("kind", list(GATES))
def test_kernel_gradcheck_float64(kind, bias, reverse):
    args = _inputs(kind, bias=bias)
    assert gradcheck(lambda *a: _call(kind, *a, reverse=reverse), tuple(args))


@pytest.mark.parametrize("kind", list(GATES))
def test_kernel_gradcheck_float64_batch_of_one_and_one_step(kind):
    # B = 1: a transposed (1, H) block is also contiguous, so views and copies coincide
    for T, B in ((4, 1), (1, 3)):
        args = _inputs(kind, T=T, B=B, seed=T)
        assert gradcheck(lambda *a: _call(kind, *a), tuple(args)), (T, B)


def _grads(kind, args):
    out = _call(kind, *args)
    weights = np.random.default_rng(5).standard_normal(out.shape)
    (out * axonic.tensor(weights)).sum().backward()
    return [None if a is None or a.grad is None else a.grad.numpy().copy() for a in args]


@pytest.mark.parametrize("kind", list(GATES))
def test_gradients_when_only_some_inputs_need_one(kind):
    full = _grads(kind, _inputs(kind))
    for frozen in range(len(full)):
        args = _inputs(kind)
        args[frozen] = args[frozen].detach() if args[frozen] is not None else None
        got = _grads(kind, args)
        assert got[frozen] is None
        for k, (a, b) in enumerate(zip(got, full)):
            if k != frozen and b is not None:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{k}")


@pytest.mark.parametrize("kind", list(GATES))
def test_retained_graph_gives_the_same_gradients_twice(kind):
    args = _inputs(kind)
    loss = (_call(kind, *args) ** 2).sum()
    loss.backward(retain_graph=True)
    first = [a.grad.numpy().copy() for a in args if a is not None]
    for a in args:
        if a is not None:
            a.grad = None
    _call(kind, *_inputs(kind, seed=1)).sum().backward()  # another graph in between
    loss.backward()
    for a, g in zip([a for a in args if a is not None], first):
        np.testing.assert_array_equal(a.grad.numpy(), g)


@pytest.mark.parametrize("kind", list(GATES))
def test_backward_frees_the_saved_arrays(kind):
    out = _call(kind, *_inputs(kind))
    fn = out.grad_fn
    assert len(fn.saved_tensors) > 0
    out.sum().backward()
    with pytest.raises(RuntimeError, match="saved values are gone"):
        _ = fn.saved_tensors


def test_no_grad_forward_keeps_nothing():
    with axonic.no_grad():
        out = lstm_sequence(*_inputs("lstm"))
    assert out.grad_fn is None and not out.requires_grad


@pytest.mark.parametrize("kind", list(GATES))
def test_changing_a_weight_in_place_before_backward_raises(kind):
    args = _inputs(kind)
    out = _call(kind, *args)
    with axonic.no_grad():
        args[2].mul_(2.0)  # w_hh, as an optimizer step between forward and backward would
    name = {"lstm": "LSTMSequence", "gru": "GRUSequence"}.get(kind, "RNNSequence")
    with pytest.raises(RuntimeError, match=rf"'{name}' for backward was modified by an "
                                           r"in-place operation: it is at version 1, "
                                           r"expected version 0"):
        out.sum().backward()


@pytest.mark.parametrize("kind", list(GATES))
def test_create_graph_through_a_kernel_raises_naming_it(kind):
    args = _inputs(kind)
    name = {"lstm": "LSTMSequence", "gru": "GRUSequence"}.get(kind, "RNNSequence")
    with pytest.raises(RuntimeError, match=rf"'{name}' has no second derivative"):
        axonic.autograd.grad(_call(kind, *args).sum(), [args[0]], create_graph=True)


def test_bad_nonlinearity_names_the_op_and_the_value():
    with pytest.raises(ValueError, match=r"rnn_sequence: nonlinearity must be 'tanh' or "
                                         r"'relu', got 'gelu'"):
        rnn_sequence(*_inputs("rnn_tanh"), nonlinearity="gelu")


@pytest.mark.parametrize("kind", list(GATES))
def test_float32_kernel_matches_float64_reference(kind):
    args64 = _inputs(kind, T=16, B=4, n_in=8, H=16)
    args32 = [None if a is None else axonic.tensor(a.detach().numpy().astype(np.float32))
              for a in args64]
    np.testing.assert_allclose(_call(kind, *args32).numpy(),
                               _call(kind, *args64).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("kind", list(GATES))
def test_no_grad_forward_equals_the_recorded_forward(kind, reverse):
    # without gradients the kernels keep two activation slots instead of one per step
    args = _inputs(kind, T=5, B=3, n_in=4, H=3, dtype=np.float32)
    recorded = _call(kind, *args, reverse=reverse).detach().numpy()
    with axonic.no_grad():
        plain = _call(kind, *args, reverse=reverse).numpy()
    np.testing.assert_array_equal(plain, recorded)


@pytest.mark.parametrize("rows", [1, 3, 8, 16])
def test_step_gemm_in_row_blocks_equals_one_product(rows):
    from axonic.ops.recurrent_gemm import StepGemm

    rng = np.random.default_rng(0)
    w, z = rng.standard_normal((16, 5)), rng.standard_normal((5, 4))
    out = np.empty((16, 4))
    StepGemm(np, w, 4, rows=rows)(z, out)
    np.testing.assert_allclose(out, w @ z, rtol=1e-12, atol=1e-12)


def test_step_gemm_splits_only_products_above_the_unpacked_kernels_size():
    from axonic.ops.recurrent_gemm import _candidate, rows_for

    assert _candidate(512, 157, 1) == 512  # 80k multiply-adds: one call
    assert _candidate(1024, 321, 32) == 96  # blocks of at most 10^6, rows a multiple of 8
    assert _candidate(256, 1024, 32) == 24
    assert rows_for(np, 512, 157, 1, np.float32) == 512


def test_step_gemm_is_one_call_under_deterministic_algorithms():
    from axonic.ops.recurrent_gemm import rows_for

    axonic.use_deterministic_algorithms(True)
    try:
        assert rows_for(np, 1024, 321, 32, np.float32) == 1024
    finally:
        axonic.use_deterministic_algorithms(False)


@pytest.mark.parametrize("library", ["numpy", "mkl"])
def test_step_gemm_blocks_follow_the_thread_count_not_a_timing(monkeypatch, library):
    from axonic.backend import blas, threads
    from axonic.ops.recurrent_gemm import rows_for

    # row blocks only for OpenBLAS at one thread; oneMKL runs the step as one call
    monkeypatch.setattr(blas, "_use", lambda: library == "mkl")
    monkeypatch.setattr(threads, "_num_threads", 1)
    assert rows_for(np, 1024, 321, 32, np.float32) == (96 if library == "numpy" else 1024)
    monkeypatch.setattr(threads, "_num_threads", 2)
    assert rows_for(np, 1024, 321, 32, np.float32) == 1024

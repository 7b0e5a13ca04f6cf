"""bench/quantization.py runs end to end at tiny sizes (no timings asserted)."""

import pytest

from bench import quantization


@pytest.mark.slow
def test_quantization_bench_runs_quick(capsys):
    rows, gemm = quantization.main(["--quick", "--models", "mlp"])
    variants = {r["variant"] for r in rows}
    assert {"float32", "static int8", "QAT int8", "dynamic int8"} <= variants
    static = next(r for r in rows if r["variant"] == "static int8")
    assert static["axonic_bytes"] < static["torch_bytes"] * 1.1
    assert all(g["exact"] for g in gemm if g["option"] != "float32 GEMM")
    assert "| mlp | static int8 |" in capsys.readouterr().out


def test_gemm_options_are_all_measured_and_the_blocked_one_is_exact():
    gemm = quantization.gemm_options(quick=True)
    assert [g["option"] for g in gemm] == ["int32 matmul", "float64 GEMM", "float32 GEMM",
                                           "float32 blocked (exact)"]
    assert all(g["exact"] and g["ms"] > 0 for g in gemm)

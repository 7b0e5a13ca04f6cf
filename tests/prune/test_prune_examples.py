"""The pruning example and benchmark: 80 % pruning + fine-tuning keeps the accuracy; the
benchmark's shrunk CNN computes what the masked one does."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import axonic
from axonic.nn.utils import prune
from bench import pruning as bench_pruning

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "prune_digits.py"


def _example():
    spec = importlib.util.spec_from_file_location("example_prune_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_cnn_shrinks_to_a_quarter_with_the_masked_outputs():
    masked = bench_pruning.prune_half(bench_pruning.build()).eval()
    small = prune.shrink(masked)
    convs = [m for m in small if hasattr(m, "out_channels")]
    assert [c.out_channels for c in convs] == [32, 64, 64]
    assert sum(p.numel() for p in small.parameters()) < 0.3 * sum(
        p.numel() for p in masked.parameters())
    x = axonic.randn(1, 3, 32, 32)
    with axonic.no_grad():
        np.testing.assert_allclose(small(x).numpy(), masked(x).numpy(), atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_80_percent_global_pruning_with_fine_tuning_stays_within_one_point(capsys):
    r = _example().main()
    assert r["sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert r["pruned80_finetuned"] >= r["dense"] - 0.01, r
    assert r["shrink_max_diff"] < 1e-4
    assert r["params"][1] < 0.35 * r["params"][0]
    assert "80 % global unstructured" in capsys.readouterr().out

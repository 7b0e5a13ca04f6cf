"""On real MNIST digits, int8 static quantisation and quantisation-aware training cost at
most one point of accuracy (the example's full run: minutes, hence slow)."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quantize_mnist.py"


def _example():
    spec = importlib.util.spec_from_file_location("quantize_mnist", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("model,epochs", [("mlp", 8), ("cnn", 4)])
def test_int8_static_and_qat_lose_at_most_one_point_on_mnist(model, epochs, capsys):
    results = _example().main(model, epochs, export=(model == "cnn"))
    base, base_size = results["float32"]
    assert base > 0.9
    for name in ("static int8", "QAT int8"):
        acc, size = results[name]
        assert acc >= base - 0.01, f"{model} {name}: {acc:.3f} vs float {base:.3f}"
        assert size < base_size / 3.5
    assert "onnxruntime" in capsys.readouterr().out or model == "mlp"


@pytest.mark.slow
def test_example_quantises_a_small_run(capsys):
    results = _example().main("mlp", 1, n_train=300, export=False)
    assert set(results) == {"float32", "static int8", "QAT int8", "dynamic int8",
                            "float16 weights", "bfloat16 weights"}
    assert results["static int8"][1] < results["float32"][1] / 3.5
    assert "static int8" in capsys.readouterr().out

"""examples/superres_digits.py: both learned upscalers (Upsample + conv, PixelShuffle)
beat nearest and bilinear interpolation on held-out digits."""

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "examples" / "superres_digits.py"


@pytest.mark.slow  # two small CNNs trained for seconds
def test_learned_upscalers_beat_interpolation_on_held_out_digits(capsys):
    spec = importlib.util.spec_from_file_location("superres_digits", PATH)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.main(epochs=12, seed=0)
    fixed = min(results["nearest"], results["bilinear"])
    assert results["upsample + conv"] < 0.8 * fixed, results
    assert results["sub-pixel (ESPCN)"] < 0.8 * fixed, results
    out = capsys.readouterr().out
    assert "sub-pixel (ESPCN)  test MSE" in out and "PSNR" in out

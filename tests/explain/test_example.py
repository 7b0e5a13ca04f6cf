"""examples/explain_digits.py draws its pictures, and its training runs have no findings."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "explain_digits.py"


@pytest.mark.slow
def test_explain_example_draws_the_pictures_without_findings(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("explain_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(tmp_path, epochs=2) == []
    for name in ("digits_attributions.png", "attention_map.png"):
        assert (tmp_path / name).stat().st_size > 5000
    out = capsys.readouterr().out
    assert "diagnostics findings: 0" in out and "Diagnostics:" not in out

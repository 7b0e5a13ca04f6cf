"""README.md stays true: its Python examples run and its config passes `axonic summary`."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", README, re.S)


BLOCK_IDS = [f"block{i}" for i, _ in enumerate(PYTHON_BLOCKS)]


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=BLOCK_IDS)
def test_readme_python_example_runs(code, tmp_path):
    code = code.replace("epochs=50", "epochs=2")  # the same code, shorter
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr


def test_readme_config_is_valid(tmp_path, capsys):
    from axonic.cli.main import main

    assert len(TOML_BLOCKS) == 1
    config = tmp_path / "readme.toml"
    config.write_text(TOML_BLOCKS[0])
    assert main(["summary", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Conv2d" in out and "Linear" in out

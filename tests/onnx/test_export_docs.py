"""docs/DEPLOY.md's ONNX export example runs."""

import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "DEPLOY.md"


def test_deploy_onnx_export_example_runs(tmp_path, monkeypatch):
    section = DEPLOY.read_text().split("## ONNX export", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(DEPLOY), "exec"), {})
    assert (tmp_path / "cnn.onnx").stat().st_size > 0

"""docs/DEPLOY.md's ONNX export example runs."""

import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "DEPLOY.md"


def _examples() -> list:
    section = DEPLOY.read_text().split("## ONNX export", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_deploy_onnx_export_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_examples()[0], str(DEPLOY), "exec"), {})
    assert (tmp_path / "cnn.onnx").stat().st_size > 0


def test_deploy_custom_op_mapping_example_runs_in_onnxruntime(tmp_path, monkeypatch):
    import numpy as np
    import onnxruntime as ort

    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(_examples()[1], str(DEPLOY), "exec"), namespace)
    x = np.linspace(-3, 3, 20, dtype=np.float32).reshape(5, 4)
    sess = ort.InferenceSession("softsign.onnx", providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x})[0]
    np.testing.assert_allclose(got, 3 * x / (1 + np.abs(x)), rtol=1e-6)

"""The code in docs/ADVANCED.md's graph, few-shot, self-supervised and federated
sections runs as written."""

import re
from pathlib import Path

SECTIONS = ("Graph neural networks", "Few-shot learning", "Self-supervised learning",
            "Federated learning")


def _blocks():
    text = (Path(__file__).resolve().parents[2] / "docs" / "ADVANCED.md").read_text()
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2]))
    return [b for name in SECTIONS
            for b in re.findall(r"```python\n(.*?)```", sections[name], flags=re.S)]


def test_advanced_guide_examples_run(capsys):
    blocks = _blocks()
    assert len(blocks) >= 7
    namespace = {}
    exec(compile("\n".join(blocks), "docs/ADVANCED.md", "exec"), namespace)  # noqa: S102
    assert namespace["batch"].num_graphs == 4 and namespace["h"].shape[1] == 16
    assert tuple(namespace["logits"].shape) == (50, 5)
    assert namespace["maml"].module[0].weight.grad is not None
    assert len(namespace["history"]) == 2
    out = capsys.readouterr().out
    assert "(34, 32)" in out and "(4, 16)" in out

"""The graph examples run on their real data and print what the issue asks to state."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gcn_classifies_the_karate_club_from_four_labels(capsys):
    accuracy = _load("gcn_karate").main(200)
    assert accuracy >= 0.9
    assert "accuracy on the other 30" in capsys.readouterr().out


def test_gnn_classifies_drosophila_cell_types_better_than_without_the_graph(capsys):
    accuracy = _load("gnn_drosophila").main(100)
    out = capsys.readouterr().out
    baseline = float(out.split("without the graph ")[1].split(",")[0])
    assert accuracy >= 0.9 and accuracy > baseline, out


@pytest.mark.slow
def test_gin_classifies_motif_graphs(capsys):
    accuracy = _load("gin_motifs").main(30)
    assert accuracy >= 0.9
    assert "GIN test accuracy" in capsys.readouterr().out


def test_gin_example_learns_in_a_few_epochs(capsys):
    accuracy = _load("gin_motifs").main(4)
    assert accuracy >= 0.75, capsys.readouterr().out

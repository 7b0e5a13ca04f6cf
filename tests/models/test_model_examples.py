"""The examples of the models: they run and print their results (short runs here; the
full runs that back the accuracies stated in docs/ADVANCED.md are marked slow)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpt_example_loss_falls_and_it_prints_samples(capsys):
    losses = _load("gpt_generate").main(steps=60)
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])
    out = capsys.readouterr().out
    assert "greedy:  'The rights of " in out and "sampled: 'The rights of " in out


def test_sentence_similarity_example_pairs_each_query_with_its_paraphrase(capsys):
    assert _load("sentence_similarity").main().tolist() == [0, 2, 3, 4]
    assert "cosine" in capsys.readouterr().out


def test_vit_mnist_example_learns_digits_in_a_short_run(capsys):
    acc = _load("vit_mnist").main(epochs=2, n_train=1000)
    assert acc > 0.2  # chance is 0.1; 26.4% measured
    assert "test accuracy" in capsys.readouterr().out


def test_lenet_mnist_example_learns_in_a_short_run(capsys):
    acc = _load("lenet_mnist").main(epochs=1, n_train=1000)
    assert acc > 0.5  # chance is 0.1
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_lenet_mnist_example_reaches_the_stated_accuracy():
    assert _load("lenet_mnist").main() >= 0.95


def test_resnet_digits_example_learns_in_a_short_run(capsys):
    acc = _load("resnet_digits").main(epochs=1, n_train=320)
    assert acc > 0.3  # chance is 0.1
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_resnet_digits_example_reaches_the_stated_accuracy():
    assert _load("resnet_digits").main() >= 0.95


@pytest.mark.slow
def test_vit_mnist_example_reaches_the_stated_accuracy(capsys):
    acc = _load("vit_mnist").main()
    assert acc >= 0.90
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_fine_tuned_minilm_beats_the_same_model_trained_from_scratch(capsys):
    acc_ft, acc_scratch = _load("transfer_minilm").main()
    assert acc_ft >= 0.9
    assert acc_ft > acc_scratch + 0.3
    assert "fine-tuned all-MiniLM-L6-v2: test accuracy" in capsys.readouterr().out

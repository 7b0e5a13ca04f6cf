"""Rosenblatt's perceptron learns AND and OR exactly and never XOR; a two-layer MLP trained
with axonic's optimizers learns XOR."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.models import Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
@pytest.mark.parametrize("lr", [1.0, 0.1])
def test_perceptron_learns_linearly_separable_gates_exactly(gate, lr):
    p = Perceptron(2).fit(X, GATES[gate], epochs=100, lr=lr)
    assert p.predict(X).tolist() == GATES[gate]
    assert p.score(X, GATES[gate]) == 1.0
    assert p.errors_[-1] == 0 and len(p.errors_) < 100  # converged, then stopped


def test_perceptron_learning_rule_by_hand():
    # First sample (0, 0) with label 1: y_hat = 0, so w += lr * 1 * x (= 0) and b += lr.
    p = Perceptron(2).fit([[0.0, 0.0]], [1], epochs=1, lr=0.5)
    assert p.weight.tolist() == [[0.0, 0.0]] and p.bias.tolist() == [0.5]
    # Then (1, 2) with label 0: z = 0.5 > 0, y_hat = 1, so w -= 0.5 * (1, 2) and b -= 0.5.
    p.fit([[1.0, 2.0]], [0], epochs=1, lr=0.5)
    assert p.weight.tolist() == [[-0.5, -1.0]] and p.bias.tolist() == [0.0]
    assert p.errors_ == [1]


@pytest.mark.parametrize("epochs", [1, 10, 100, 1000])
def test_perceptron_cannot_learn_xor(epochs):
    p = Perceptron(2).fit(X, GATES["XOR"], epochs=epochs)
    assert p.score(X, GATES["XOR"]) < 1.0
    assert min(p.errors_) > 0 and len(p.errors_) == epochs  # a mistake in every pass


def test_no_line_separates_xor():
    """Whatever weights the rule reaches, at most 3 of the 4 XOR points are right."""
    rng = np.random.default_rng(0)
    p = Perceptron(2)
    for w in rng.standard_normal((2000, 3)):
        p.weight._data[...] = w[:2]
        p.bias._data[...] = w[2]
        assert p.score(X, GATES["XOR"]) <= 0.75


def _mlp_learns_xor(opt_name, seed):
    axonic.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    opt = (optim.Adam(model.parameters(), lr=0.05) if opt_name == "Adam"
           else optim.SGD(model.parameters(), lr=0.5, momentum=0.9))
    x, y = axonic.tensor(X), axonic.tensor(np.array(GATES["XOR"], np.float32)[:, None])
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    pred = (model(x).detach().numpy()[:, 0] > 0).astype(int)
    return pred.tolist(), loss.item()


@pytest.mark.parametrize("opt_name", ["Adam", "SGD"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_mlp_learns_xor(opt_name, seed):
    pred, loss = _mlp_learns_xor(opt_name, seed)
    assert pred == GATES["XOR"]
    assert loss < 0.1


def test_perceptron_is_a_module_with_linear_shaped_weights(tmp_path):
    p = Perceptron(3).fit(np.eye(3), [1, 0, 1])
    assert list(p.state_dict()) == ["weight", "bias"]
    assert p.weight.shape == (1, 3) and p.bias.shape == (1,)
    path = tmp_path / "p.safetensors"
    axonic.save(p.state_dict(), path)
    q = Perceptron(3)
    q.load_state_dict(axonic.load(path))
    assert q.predict(np.eye(3)).tolist() == [1, 0, 1]
    assert p(axonic.tensor(np.eye(3, dtype=np.float32))).tolist() == [[1.0], [0.0], [1.0]]


def test_perceptron_errors_name_the_problem():
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"Perceptron: expected inputs of shape \(N, 2\), got "
                                         r"shape \(4, 3\)"):
        p.fit(np.zeros((4, 3)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"expected 4 labels \(one per row of X\), got shape "
                                         r"\(3,\)"):
        p.fit(X, [0, 1, 0])
    with pytest.raises(ValueError, match=r"labels must be 0 or 1, got \[-1.0, 2.0\]"):
        p.fit(X, [-1, 1, 2, 0])
    with pytest.raises(ValueError, match="in_features must be a positive int, got 0"):
        Perceptron(0)
    with pytest.raises(ValueError, match="epochs must be a non-negative int, got 1.5"):
        p.fit(X, GATES["AND"], epochs=1.5)
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        p.fit(X, GATES["AND"], lr=0)


def test_example_tells_the_story(capsys):
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "perceptron_xor.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert "accuracy 100%" in lines["AND"] and "accuracy 100%" in lines["OR"]
    assert "accuracy 100%" not in lines["XOR"] and "mistakes in pass 100" in lines["XOR"]
    assert out.rstrip().splitlines()[-1].endswith("accuracy 100%  predictions [0, 1, 1, 0]")

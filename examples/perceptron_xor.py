"""The perceptron and XOR: why one threshold unit is not enough, and a hidden layer is.

Rosenblatt's perceptron (1957) learns AND and OR, whose classes a line separates, in a
few passes. XOR has no such line (Minsky & Papert, 1969): the perceptron makes mistakes
in every pass, forever. A two-layer network (Linear-Tanh-Linear) trained by gradient
descent with Adam bends the boundary and gets all four points right.

    python examples/perceptron_xor.py
"""

import numpy as np

import axonic
from axonic import nn, optim
from axonic.models import Perceptron

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}


def perceptron_story(epochs: int = 100) -> None:
    print(f"Rosenblatt's perceptron, rule w += lr * (y - y_hat) * x, up to {epochs} epochs")
    for gate, y in GATES.items():
        p = Perceptron(2).fit(X, y, epochs=epochs, lr=1.0)
        w, b = p.weight.detach().numpy()[0], float(p.bias.detach().numpy()[0])
        passes = len(p.errors_)
        state = (f"converged after {passes} passes" if p.errors_[-1] == 0
                 else f"still {p.errors_[-1]} mistakes in pass {passes}")
        print(f"  {gate:<3}  accuracy {p.score(X, y):4.0%}  {state:<32}  "
              f"w = {w.tolist()}, b = {b}")


def mlp_story(steps: int = 300, seed: int = 0) -> None:
    axonic.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    x = axonic.tensor(X)
    y = axonic.tensor(np.array(GATES["XOR"], np.float32)[:, None])
    print(f"\nTwo-layer MLP (Linear(2, 8) - Tanh - Linear(8, 1)), Adam lr=0.05, "
          f"BCE with logits, {steps} steps")
    for step in range(1, steps + 1):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if step in (1, 10, 50, 100, steps):
            pred = (model(x).detach().numpy()[:, 0] > 0).astype(int)
            acc = float((pred == np.array(GATES["XOR"])).mean())
            print(f"  step {step:4d}  loss before the step {loss.item():.4f}  accuracy {acc:4.0%}  "
                  f"predictions {pred.tolist()}")


if __name__ == "__main__":
    perceptron_story()
    mlp_story()

"""Train a small CNN on scikit-learn's 8x8 handwritten digits with a plain training loop.

    python examples/train_cnn.py [--steps 300]

Shows the PyTorch-style loop: a DataLoader, a model of Conv2d/MaxPool2d/Linear layers,
cross-entropy, Adam, and evaluation under no_grad. Prints a falling loss.
"""

import argparse

import axonic
from axonic import nn, optim
from axonic.data import DataLoader, get_dataset, random_split


def main(steps: int = 300) -> list[float]:
    axonic.manual_seed(0)
    digits = get_dataset("digits", as_images=True)  # (N, 1, 8, 8) in [0, 1], labels 0-9
    train, test = random_split(digits, [0.8, 0.2], generator=axonic.Generator().manual_seed(0))
    loader = DataLoader(train, batch_size=32, shuffle=True, seed=0)

    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()

    losses, step, epoch = [], 0, 0
    while step < steps:
        loader.set_epoch(epoch)
        for images, labels in loader:
            loss = loss_fn(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0 or step == steps:
                print(f"step {step:4d}  loss {sum(losses[-50:]) / len(losses[-50:]):.4f}")
            if step == steps:
                break
        epoch += 1

    model.eval()
    with axonic.no_grad():
        images, labels = next(iter(DataLoader(test, batch_size=len(test))))
        accuracy = (model(images).argmax(1) == labels).float().mean().item()
    print(f"test accuracy {accuracy:.4f}")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    main(parser.parse_args().steps)

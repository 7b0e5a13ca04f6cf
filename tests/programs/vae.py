"""A variational autoencoder on handwritten digits, as the public VAE example writes it
(scikit-learn's 8x8 digits stand in for MNIST's 28x28)."""

import argparse

import numpy as np
import torch
import torch.utils.data
from torch import nn, optim
from torch.nn import functional as F

PIXELS = 64


class VAE(nn.Module):
    def __init__(self, hidden=48, latent=8):
        super().__init__()
        self.fc1 = nn.Linear(PIXELS, hidden)
        self.fc21 = nn.Linear(hidden, latent)
        self.fc22 = nn.Linear(hidden, latent)
        self.fc3 = nn.Linear(latent, hidden)
        self.fc4 = nn.Linear(hidden, PIXELS)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, PIXELS))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction + KL divergence losses summed over all elements and batch."""
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, PIXELS), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def digits_loader(batch_size, shuffle, train=True):
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype(np.float32)[:, None]
    x = x[:1500] if train else x[1500:]
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.zeros(len(x)))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def train(model, optimizer, train_loader, epoch, log_interval=10, log=print):
    model.train()
    train_loss = 0
    for batch_idx, (data, _) in enumerate(train_loader):
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
        if batch_idx % log_interval == 0:
            log(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]"
                f"\tLoss: {loss.item() / len(data):.6f}")
    log(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.4f}")
    return train_loss / len(train_loader.dataset)


def test(model, test_loader, log=print):
    model.eval()
    test_loss = 0
    with torch.no_grad():
        for data, _ in test_loader:
            recon_batch, mu, logvar = model(data)
            test_loss += loss_function(recon_batch, data, mu, logvar).item()
    test_loss /= len(test_loader.dataset)
    log(f"====> Test set loss: {test_loss:.4f}")
    return test_loss


def main(argv=None):
    parser = argparse.ArgumentParser(description="VAE digits example")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, args.epochs + 1):
        train(model, optimizer, digits_loader(args.batch_size, True), epoch)
        test(model, digits_loader(args.batch_size, False, train=False))
        with torch.no_grad():
            sample = torch.randn(16, 8)
            sample = model.decode(sample).cpu()
            print("sample", tuple(sample.view(16, 1, 8, 8).shape))


if __name__ == "__main__":
    main()

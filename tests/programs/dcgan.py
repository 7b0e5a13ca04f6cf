"""A DCGAN and its alternating training loop, as the public DCGAN example writes them,
scaled down to 16x16 images (scikit-learn's digits, upsampled)."""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data

nz, ngf, ndf, nc = 8, 8, 8, 1


def weights_init(m):
    """custom weights initialization called on netG and netD"""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, ngpu=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),  # 4x4
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),  # 8x8
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # 16x16
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ngpu=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # 8x8
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),  # 4x4
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def digits_16x16():
    from sklearn.datasets import load_digits

    images = np.kron(load_digits().images, np.ones((2, 2))) / 16.0
    return ((images - 0.5) / 0.5).astype(np.float32)[:, None]


def train_step(netD, netG, optimizerD, optimizerG, criterion, real_cpu, noise, device="cpu"):
    """One iteration of the example's loop: (1) update D, (2) update G."""
    real_label, fake_label = 1, 0
    # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
    netD.zero_grad()
    batch_size = real_cpu.size(0)
    label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
    output = netD(real_cpu)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    # (2) Update G network: maximize log(D(G(z)))
    netG.zero_grad()
    label.fill_(real_label)  # fake labels are real for generator cost
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    return errD.item(), errG.item(), D_x, D_G_z1, D_G_z2


def make(lr=0.0002, beta1=0.5):
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))
    return netG, netD, optimizerD, optimizerG, nn.BCELoss()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--niter", type=int, default=1)
    parser.add_argument("--batchSize", type=int, default=64)
    parser.add_argument("--manualSeed", type=int, default=999)
    opt = parser.parse_args(argv)
    torch.manual_seed(opt.manualSeed)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(digits_16x16()))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=opt.batchSize, shuffle=True)
    netG, netD, optimizerD, optimizerG, criterion = make()
    fixed_noise = torch.randn(opt.batchSize, nz, 1, 1)
    for epoch in range(opt.niter):
        for i, (data,) in enumerate(dataloader):
            noise = torch.randn(data.size(0), nz, 1, 1)
            errD, errG, D_x, D_G_z1, D_G_z2 = train_step(
                netD, netG, optimizerD, optimizerG, criterion, data, noise)
            if i % 10 == 0:
                print(f"[{epoch}/{opt.niter}][{i}/{len(dataloader)}] Loss_D: {errD:.4f} "
                      f"Loss_G: {errG:.4f} D(x): {D_x:.4f} D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")
            if i == 20:
                break
    fake = netG(fixed_noise)
    print("fake", tuple(fake.detach().shape))


if __name__ == "__main__":
    main()

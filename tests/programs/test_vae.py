"""The VAE example (reparameterisation, BCE + KL, Adam) on PyTorch and on axonic."""

import numpy as np

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_params, copy_weights


def _fixed_noise(prog, model, seed):
    """The same eps for both libraries (their random streams differ)."""
    rng = np.random.default_rng(seed)

    def reparameterize(mu, logvar):
        eps = prog.torch.from_numpy(rng.standard_normal(tuple(mu.shape)).astype(np.float32))
        return mu + eps * prog.torch.exp(0.5 * logvar)

    model.reparameterize = reparameterize
    return model


def test_vae_training_matches():
    pt, ax = both("vae")
    models = {pt: pt.VAE(), ax: ax.VAE()}
    copy_weights(models[pt], models[ax])
    results = {}
    for prog, model in models.items():
        _fixed_noise(prog, model, seed=3)
        optimizer = prog.optim.Adam(model.parameters(), lr=1e-3)
        logs = []
        loader = prog.digits_loader(100, False)
        train_loss = prog.train(model, optimizer, loader, 1, log=logs.append)
        test_loss = prog.test(model, prog.digits_loader(100, False, train=False), log=logs.append)
        results[prog] = train_loss, test_loss, logs
    close(results[ax][0], results[pt][0], rtol=1e-4, what="train loss")
    close(results[ax][1], results[pt][1], rtol=1e-4, what="test loss")
    close_params(models[ax], models[pt], rtol=1e-3, atol=1e-5)
    assert len(results[ax][2]) == len(results[pt][2]) == 4


def test_vae_gradients_match_through_the_reparameterisation():
    pt, ax = both("vae")
    models = {pt: pt.VAE(), ax: ax.VAE()}
    copy_weights(models[pt], models[ax])
    x = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    outs = {}
    for prog, model in models.items():
        _fixed_noise(prog, model, seed=4)
        recon, mu, logvar = model(prog.torch.from_numpy(x))
        loss = prog.loss_function(recon, prog.torch.from_numpy(x), mu, logvar)
        loss.backward()
        outs[prog] = recon, mu, logvar, loss
    for a, t in zip(outs[ax], outs[pt]):
        close(a, t)
    close_params(models[ax], models[pt], grads=True)


def test_vae_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "vae.py"), ["--epochs", "1"])
    out = capsys.readouterr().out
    assert "====> Test set loss" in out and "sample (16, 1, 8, 8)" in out

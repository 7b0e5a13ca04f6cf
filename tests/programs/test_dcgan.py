"""The DCGAN loop (ConvTranspose2d, BatchNorm2d, BCELoss, two Adams) on both libraries."""

import numpy as np

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_buffers, close_params, copy_weights


def _run(steps, dtype):
    pt, ax = both("dcgan")
    nets = {prog: prog.make() for prog in (pt, ax)}
    for t_net, a_net in zip(nets[pt][:2], nets[ax][:2]):
        copy_weights(t_net, a_net)
    real = pt.digits_16x16().astype(dtype)
    noise = np.random.default_rng(0).standard_normal((steps, 32, pt.nz, 1, 1)).astype(dtype)
    stats = {pt: [], ax: []}
    for prog, (netG, netD, optD, optG, criterion) in nets.items():
        if dtype == np.float64:
            netG.double(), netD.double()
        for step in range(steps):
            batch = prog.torch.from_numpy(real[step * 32:(step + 1) * 32])
            z = prog.torch.from_numpy(noise[step])
            stats[prog].append(prog.train_step(netD, netG, optD, optG, criterion, batch, z))
    return np.array(stats[ax]), np.array(stats[pt]), nets[ax][:2], nets[pt][:2]


def test_dcgan_alternating_steps_match_in_float32():
    a_stats, t_stats, a_nets, t_nets = _run(4, np.float32)
    close(a_stats, t_stats, rtol=1e-4, what="errD, errG, D(x), D(G(z))")
    for a_net, t_net in zip(a_nets, t_nets):
        close_buffers(a_net, t_net, rtol=1e-4)
        close_params(a_net, t_net, grads=True, rtol=1e-3)


def test_dcgan_alternating_steps_match_in_float64():
    # Adam's first steps move every weight by about +-lr whatever the gradient's size, so a
    # float32 rounding flip of a near-zero gradient shows as a 2*lr difference; float64 shows
    # the updates themselves
    a_stats, t_stats, a_nets, t_nets = _run(4, np.float64)
    close(a_stats, t_stats, rtol=1e-9, atol=1e-12, what="errD, errG, D(x), D(G(z))")
    for a_net, t_net in zip(a_nets, t_nets):
        close_params(a_net, t_net, rtol=1e-7, atol=1e-10)
        close_buffers(a_net, t_net, rtol=1e-9, atol=1e-12)
        close_params(a_net, t_net, grads=True, rtol=1e-7, atol=1e-10)


def test_dcgan_generator_in_eval_mode_uses_running_statistics():
    pt, ax = both("dcgan")
    t_g, a_g = pt.make()[0], ax.make()[0]
    copy_weights(t_g, a_g)
    z = np.random.default_rng(1).standard_normal((6, pt.nz, 1, 1)).astype(np.float32)
    for net, prog in ((t_g, pt), (a_g, ax)):
        net(prog.torch.from_numpy(z))  # one train-mode pass moves the running stats
        net.eval()
    close(a_g(ax.torch.from_numpy(z)), t_g(pt.torch.from_numpy(z)))


def test_dcgan_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "dcgan.py"), ["--batchSize", "16"])
    out = capsys.readouterr().out
    assert "[0/1][20/" in out and "fake (16, 1, 16, 16)" in out

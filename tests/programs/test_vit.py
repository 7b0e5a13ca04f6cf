"""The torchvision-style ViT (patch conv, class token, MultiheadAttention blocks) and its
AdamW + LambdaLR loop on both libraries."""

import numpy as np
import pytest

from axonic.compat import run_script
from tests.programs._harness import HERE, both, close, close_params, copy_weights


def _pair():
    pt, ax = both("vit")
    models = {pt: pt.VisionTransformer(), ax: ax.VisionTransformer()}
    copy_weights(models[pt], models[ax])
    return pt, ax, models


def test_vit_state_dict_names_and_init_match_torchvisions_layout():
    pt, ax, models = _pair()
    names = list(models[ax].state_dict())
    assert names == list(models[pt].state_dict())
    assert "encoder.layers.encoder_layer_1.self_attention.in_proj_weight" in names
    fresh = ax.VisionTransformer()
    assert float(fresh.heads.head.weight.detach().abs().sum()) == 0.0
    assert abs(float(fresh.encoder.pos_embedding.detach().std()) - 0.02) < 0.004


def test_vit_logits_and_gradients_match():
    pt, ax, models = _pair()
    # a non-zero head (torchvision starts it at zero) so that every gradient is non-zero
    head = np.random.default_rng(0).standard_normal((10, 16)).astype(np.float32) * 0.1
    outs = {}
    for prog, model in models.items():
        with prog.torch.no_grad():
            model.heads.head.weight.copy_(prog.torch.from_numpy(head))
        x, y = prog.digits(12)
        out = model(x)
        prog.nn.CrossEntropyLoss(label_smoothing=0.11)(out, y).backward()
        outs[prog] = out
    close(outs[ax], outs[pt])
    close_params(models[ax], models[pt], grads=True)


def test_vit_training_steps_match():
    # float64: the key bias gets a gradient of exactly zero in exact arithmetic (softmax does
    # not see a shift shared by all keys), so in float32 AdamW steps on rounding noise alone
    pt, ax, models = _pair()
    losses, lrs = {}, {}
    for prog, model in models.items():
        model.double()
        optimizer, scheduler, criterion = prog.make_training(model, total=6)
        x, y = prog.digits(6 * 32)
        x = x.double()
        batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 6 * 32, 32)]
        logs = []
        losses[prog] = prog.train_steps(model, optimizer, scheduler, criterion, batches,
                                        log=logs.append)
        lrs[prog] = [line.split("lr ")[1] for line in logs]
    close(losses[ax], losses[pt], rtol=1e-10, what="losses")
    assert lrs[ax] == lrs[pt]
    close_params(models[ax], models[pt], rtol=1e-8, atol=1e-11)


def test_vit_refuses_a_wrong_image_size_with_torchvisions_message():
    pt, ax, models = _pair()
    with pytest.raises(Exception, match="Wrong image height! Expected 8"):
        models[ax](ax.torch.zeros(1, 1, 6, 8))


def test_vit_runs_as_a_script_on_axonic(capsys):
    run_script(str(HERE / "vit.py"), ["3"])
    assert "train accuracy" in capsys.readouterr().out

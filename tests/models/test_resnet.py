"""ResNet against torchvision's architecture (written out in torch.nn with its module
names): same state_dict keys, same outputs and parameter gradients."""

import numpy as np
import pytest
import torch

import axonic
from axonic.models import BasicBlock, ResNet, resnet18, resnet34, resnet50

from . import torchvision_reference as tv
from .helpers import assert_param_grads_close, assert_same_keys_and_shapes, pair_input, to_axonic


@pytest.mark.parametrize("builder,block,layers", [
    (resnet18, tv.BasicBlock, [2, 2, 2, 2]), (resnet34, tv.BasicBlock, [3, 4, 6, 3]),
    (resnet50, tv.Bottleneck, [3, 4, 6, 3])])
def test_resnet_state_dict_keys_match_torchvision(builder, block, layers):
    torch.manual_seed(0)
    assert_same_keys_and_shapes(tv.ResNet(block, layers), builder())


def test_resnet18_matches_torchvision_forward_and_gradients_in_training_mode():
    torch.manual_seed(0)
    ref = tv.ResNet(tv.BasicBlock, [2, 2, 2, 2], num_classes=10)
    model = to_axonic(ref, resnet18(num_classes=10))
    tx, ax = pair_input((2, 3, 64, 64))
    tout, aout = ref(tx), model(ax)
    np.testing.assert_allclose(aout.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-4)
    w = np.random.default_rng(1).standard_normal((2, 10)).astype(np.float32)
    (tout * torch.tensor(w)).sum().backward()
    (aout * axonic.tensor(w)).sum().backward()
    assert_param_grads_close(ref, model, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(ax.grad.numpy(), tx.grad.numpy(), rtol=2e-3, atol=1e-5)
    # BatchNorm running statistics were updated the same way
    np.testing.assert_allclose(model.layer4[1].bn2.running_var.numpy(),
                               ref.layer4[1].bn2.running_var.numpy(), rtol=1e-4)


def test_resnet50_bottleneck_matches_torchvision_in_eval_mode():
    torch.manual_seed(0)
    ref = tv.ResNet(tv.Bottleneck, [1, 1, 1, 1], num_classes=5).eval()
    for m in ref.modules():  # non-trivial running statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    model = to_axonic(ref, ResNet(axonic.models.Bottleneck, [1, 1, 1, 1], num_classes=5)).eval()
    tx, ax = pair_input((2, 3, 32, 32), seed=3)
    np.testing.assert_allclose(model(ax).detach().numpy(), ref(tx).detach().numpy(), rtol=1e-4,
                               atol=1e-4)


def test_resnet_loads_weights_from_a_safetensors_file(tmp_path):
    torch.manual_seed(0)
    ref = tv.ResNet(tv.BasicBlock, [2, 2, 2, 2], num_classes=3).eval()
    axonic.save({k: v.numpy() for k, v in ref.state_dict().items()}, tmp_path / "r.safetensors")
    model = resnet18(weights=tmp_path / "r.safetensors", num_classes=3).eval()
    tx, ax = pair_input((1, 3, 32, 32))
    np.testing.assert_allclose(model(ax).detach().numpy(), ref(tx).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


def test_resnet_zero_init_residual_starts_each_block_as_identity():
    model = ResNet(BasicBlock, [1, 1, 1, 1], zero_init_residual=True)
    assert np.all(model.layer1[0].bn2.weight.detach().numpy() == 0)


def test_resnet_errors_name_the_bad_argument():
    with pytest.raises(ValueError, match=r"ResNet: layers must be 4 positive ints .*\[2, 2\]"):
        ResNet(BasicBlock, [2, 2])
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        ResNet(BasicBlock, [1, 1, 1, 1], groups=2)
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a 3"):
        ResNet(BasicBlock, [1, 1, 1, 1], replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 3, H, W\), got "
                                         r"\(2, 1, 32, 32\)"):
        ResNet(BasicBlock, [1, 1, 1, 1])(axonic.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="ResNet: weights: expected a .safetensors or .npz "
                                         "file, got 'model.pt'"):
        resnet18(weights="model.pt")
    with pytest.raises(ValueError, match="ResNet: weights must be None, a state_dict or the "
                                         "path of a .safetensors / .npz file, got int"):
        resnet18(weights=3)

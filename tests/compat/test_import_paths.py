"""PyTorch's import paths reach the same classes in axonic."""

import importlib

import numpy as np
import pytest
import torch

import axonic

MODULE_FILES = ["activation", "batchnorm", "container", "conv", "distance", "dropout", "flatten",
                "linear", "loss", "module", "normalization", "pooling", "rnn", "sparse",
                "transformer"]


@pytest.mark.parametrize("file", MODULE_FILES)
def test_nn_modules_files_hold_the_layers_torch_puts_there(file):
    ours = importlib.import_module(f"axonic.nn.modules.{file}")
    theirs = importlib.import_module(f"torch.nn.modules.{file}")
    assert ours.__all__
    for name in ours.__all__:
        assert name in theirs.__all__, f"{name} is not in torch.nn.modules.{file}"
        assert getattr(ours, name) is getattr(axonic.nn, name)


def test_multihead_attention_from_its_torch_path():
    from axonic.nn.modules.activation import MultiheadAttention

    assert MultiheadAttention is axonic.nn.MultiheadAttention
    assert axonic.nn.modules.batchnorm.BatchNorm2d is axonic.nn.BatchNorm2d


@pytest.mark.parametrize("path", ["axonic.utils.data", "axonic.utils.data.dataloader",
                                  "axonic.utils.data.sampler", "axonic.utils.data.dataset",
                                  "axonic.utils.data.distributed"])
def test_utils_data_paths_import(path):
    module = importlib.import_module(path)
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_utils_data_reexports_axonic_data():
    from axonic.utils.data import DataLoader, RandomSampler, TensorDataset
    from axonic.utils.data.sampler import SequentialSampler

    assert DataLoader is axonic.data.DataLoader
    assert RandomSampler is axonic.data.RandomSampler
    assert SequentialSampler is axonic.data.SequentialSampler
    ds = TensorDataset(np.arange(6, dtype=np.float32), np.arange(6))
    assert [y.tolist() for _, y in DataLoader(ds, batch_size=4)] == [[0, 1, 2, 3], [4, 5]]


def test_chain_and_stack_datasets_match_torch():
    from axonic.utils.data import ChainDataset, StackDataset

    a, b = [1, 2, 3], [4, 5, 6]
    assert list(ChainDataset([a, b])) == [1, 2, 3, 4, 5, 6]
    assert StackDataset(a, b)[2] == torch.utils.data.StackDataset(a, b)[2]
    assert StackDataset(x=a, y=b)[0] == torch.utils.data.StackDataset(x=a, y=b)[0]
    assert len(StackDataset(a, b)) == 3


def test_stack_dataset_refuses_unequal_lengths():
    from axonic.utils.data import StackDataset

    with pytest.raises(ValueError, match=r"differ in length: \[2, 3\]"):
        StackDataset([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="positional or as keyword"):
        StackDataset([1], x=[2])


def test_get_worker_info_is_none_in_the_loading_process():
    assert axonic.utils.data.get_worker_info() is None
    assert torch.utils.data.get_worker_info() is None


def test_serialization_forwards_to_io():
    import axonic.serialization

    assert axonic.serialization.save is axonic.io.save
    assert axonic.serialization.load is axonic.io.load


def test_nn_parallel_has_torch_names():
    from axonic.nn.parallel import DistributedDataParallel

    assert DistributedDataParallel.__name__ == torch.nn.parallel.DistributedDataParallel.__name__


def test_base_classes_at_torch_paths_cover_their_layers():
    from axonic.nn.modules.batchnorm import _BatchNorm
    from axonic.nn.modules.conv import _ConvNd
    from axonic.nn.modules.loss import _Loss
    from axonic.nn.modules.pooling import _MaxPoolNd

    norm_classes = (_BatchNorm, axonic.nn.LayerNorm)  # torchvision's set_weight_decay
    assert all(isinstance(m, norm_classes) for m in (axonic.nn.BatchNorm1d(2),
                                                     axonic.nn.BatchNorm2d(2),
                                                     axonic.nn.LayerNorm(2)))
    assert not isinstance(axonic.nn.Linear(2, 2), norm_classes)
    assert isinstance(axonic.nn.Conv2d(1, 1, 3), _ConvNd)
    assert isinstance(axonic.nn.MSELoss(), _Loss)
    assert isinstance(axonic.nn.MaxPool2d(2), _MaxPoolNd)


def test_data_parallel_wraps_like_torch():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(1, 3)).astype(np.float32), rng.normal(size=1).astype(np.float32)
    ours = axonic.nn.DataParallel(axonic.nn.Linear(3, 1))
    theirs = torch.nn.DataParallel(torch.nn.Linear(3, 1))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({"module.weight": w, "module.bias": b})
    theirs.load_state_dict({"module.weight": torch.tensor(w), "module.bias": torch.tensor(b)})
    x = rng.normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(axonic.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert isinstance(ours.module, axonic.nn.Linear)
    assert axonic.nn.parallel.data_parallel(ours.module, axonic.tensor(x)).shape == (4, 1)
    with pytest.raises(TypeError, match="DataParallel: module must be an axonic.nn.Module"):
        axonic.nn.DataParallel(lambda t: t)

"""Files split along their ideas: each new file's docstring examples run, and every name
keeps the import paths it had before the split."""

import doctest
import importlib

import numpy as np
import pytest

SPLIT_MODULES = [
    "axonic.nn.module", "axonic.nn.hooks", "axonic.nn.layer_errors", "axonic.nn.module_device",
    "axonic.nn.module_print", "axonic.nn.module_state", "axonic.nn.utils.prune_base",
    "axonic.nn.utils.prune_methods", "axonic.nn.loss_base", "axonic.nn.regression_loss",
    "axonic.nn.classification_loss", "axonic.nn.divergence_loss", "axonic.nn.activation",
    "axonic.nn.activation_base", "axonic.nn.activation_composite",
    "axonic.nn.activation_softmax", "axonic.ops.max_min", "axonic.ops.cumulative",
]  # axonic.train's and axonic.data's files: their own test_docstrings.py runs every one

# (module, name): each still importable from where it was before the split
KEPT_PATHS = [
    ("axonic.nn.module", "Module"), ("axonic.nn.module", "LayerInputError"),
    ("axonic.nn", "LayerInputError"), ("axonic.nn.modules.module", "Module"),
    *[("axonic.nn.utils.prune", n) for n in (
        "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
        "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
        "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
        "global_unstructured", "custom_from_mask", "remove", "is_pruned", "shrink")],
    *[("axonic.nn.loss", n) for n in (
        "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "MSELoss",
        "L1Loss", "HuberLoss", "SmoothL1Loss", "binary_cross_entropy", "cross_entropy",
        "binary_cross_entropy_with_logits", "nll_loss", "kl_div", "mse_loss", "l1_loss",
        "huber_loss", "smooth_l1_loss", "_Loss", "_WeightedLoss", "_as_tensor", "_check_pair",
        "_reduce", "_reduction")],
    ("axonic.nn.modules.loss", "_Loss"), ("axonic.nn.modules.loss", "KLDivLoss"),
    *[("axonic.nn.activation", n) for n in (
        "CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
        "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "ReLU", "ReLU6", "SELU", "Sigmoid",
        "SiLU", "Softmax", "Softmin", "Softplus", "Softsign", "Tanh", "Threshold", "celu",
        "glu", "hardsigmoid", "hardswish", "hardtanh", "log_softmax", "logsigmoid", "mish",
        "relu", "relu6", "selu", "softmax", "softmin", "softsign", "threshold", "_Activation")],
    ("axonic.nn.modules.activation", "Softmin"), ("axonic.nn.functional", "threshold"),
    *[("axonic.train.checkpoint", n) for n in (
        "CheckpointDir", "CheckpointError", "MANIFEST", "STATE", "FORMAT", "VERSION",
        "_manifest_digest", "read_checkpoint", "resolve_checkpoint", "split_arrays",
        "join_arrays", "verify_checkpoint", "write_checkpoint")],
    ("axonic.train.trainer", "Trainer"), ("axonic.train.trainer", "NonFiniteLossError"),
    *[(m, n) for m in ("axonic", "axonic.ops") for n in (
        "sum", "mean", "max", "min", "amax", "amin", "prod", "logsumexp", "cumsum",
        "count_nonzero", "argmax", "argmin", "all", "any")],
    *[("axonic:Tensor", n) for n in ("max", "min", "argmax", "argmin", "cumsum", "sum")],
    *[("axonic.data.transforms", n) for n in (
        "CenterCrop", "Compose", "Lambda", "Normalize", "RandomAffine", "RandomCrop",
        "RandomHorizontalFlip", "RandomRotation", "RandomVerticalFlip", "Resize", "ToTensor",
        "Transform", "affine_grid", "sample_grid", "using_generator", "forward_matrices")],
]


@pytest.mark.parametrize("name", SPLIT_MODULES)
def test_split_module_docstring_examples_run(name):
    with np.errstate(all="ignore"):
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


@pytest.mark.parametrize("module, name", KEPT_PATHS)
def test_names_keep_their_import_paths(module, name):
    path, _, cls = module.partition(":")  # "axonic:Tensor": a method of axonic.Tensor
    found = importlib.import_module(path)
    if cls:
        found = getattr(found, cls)
    assert getattr(found, name) is not None

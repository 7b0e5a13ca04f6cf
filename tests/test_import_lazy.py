"""``import axonic`` defers what most programs never touch, and the deferred names still
resolve on first use, as the eager ones did."""

import json
import subprocess
import sys

import numpy as np
import pytest

import axonic
from axonic import nn

DEFERRED = ["numpy.random", "axonic.nn.graph", "axonic.nn.modules", "axonic.nn.utils",
            "axonic.nn.parallel", "dataclasses", "numba", "axonic.backend._jit_kernels",
            "axonic.nn.padding", "axonic.nn.upsampling", "axonic.nn.conv3d",
            "axonic.nn.ctc_loss", "axonic.nn.instancenorm", "axonic.nn.embedding_bag",
            "axonic.nn.fold", "axonic.nn.lp_pool", "axonic.nn.multilabel_loss",
            "axonic.nn.adaptive_max_pool", "axonic.nn.activation_random"]


def _loaded_after(code):
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\n"
                          f"print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_axonic_loads_none_of_the_deferred_modules():
    assert _loaded_after("import axonic") == []


def test_first_draw_loads_numpy_random_and_layers_still_initialise():
    assert "numpy.random" in _loaded_after("import axonic\naxonic.nn.Linear(2, 3)")


@pytest.mark.parametrize("name, module", [
    ("GCNConv", "axonic.nn.graph.gcn_conv"), ("global_mean_pool", "axonic.nn.graph.pool"),
    ("DataParallel", "axonic.nn.parallel.data_parallel")])
def test_deferred_names_resolve_to_the_same_objects(name, module):
    import importlib

    assert getattr(nn, name) is getattr(importlib.import_module(module), name)
    assert name in dir(nn)


def test_deferred_submodules_resolve():
    assert nn.utils.clip_grad_norm_ is __import__(
        "axonic.nn.utils.clip_grad", fromlist=["x"]).clip_grad_norm_
    assert nn.modules.linear.Linear is nn.Linear
    from axonic.nn import DataParallel, GATConv  # noqa: F401  (the from-import form)


def test_unknown_attribute_names_itself():
    with pytest.raises(AttributeError, match="'axonic.nn' has no attribute 'Lineer'"):
        nn.Lineer  # noqa: B018
    with pytest.raises(AttributeError, match="'axonic.nn.functional' has no attribute 'cnv3d'"):
        nn.functional.cnv3d  # noqa: B018


@pytest.mark.parametrize("name, module", [
    ("Conv3d", "axonic.nn.conv3d"), ("CTCLoss", "axonic.nn.ctc_loss"),
    ("ReflectionPad2d", "axonic.nn.padding"), ("Upsample", "axonic.nn.upsampling")])
def test_deferred_layers_and_their_functions_resolve(name, module):
    import importlib

    assert getattr(nn, name) is getattr(importlib.import_module(module), name)
    assert nn.functional.conv3d is importlib.import_module("axonic.nn.conv3d").conv3d
    assert "ctc_loss" in dir(nn.functional) and name in dir(nn)


def test_generator_made_on_first_draw_follows_the_seed_given_before_it():
    g = axonic.Generator().manual_seed(7)
    expect = np.random.Generator(np.random.PCG64(7)).random(4, dtype=np.float32)
    assert np.array_equal(g.uniform(0.0, 1.0, (4,)), expect)
    fresh = axonic.Generator()  # never seeded: seed 0, as before the deferral
    assert fresh.initial_seed() == 0
    assert np.array_equal(fresh.uniform(0.0, 1.0, (4,)),
                          np.random.Generator(np.random.PCG64(0)).random(4, dtype=np.float32))


def test_state_of_an_undrawn_generator_round_trips():
    g = axonic.Generator()
    s = g.get_state()
    a = g.normal(0, 1, (3,))
    g.set_state(s)
    assert np.array_equal(g.normal(0, 1, (3,)), a)


def test_star_import_names_the_deferred_layers_too():
    ns = {}
    exec("from axonic.nn import *", ns)  # noqa: S102  (the user's form, in a fresh namespace)
    assert ns["GCNConv"] is nn.GCNConv and ns["Linear"] is nn.Linear
    assert "annotations" not in ns and not any(k.startswith("_") for k in ns if k != "__builtins__")

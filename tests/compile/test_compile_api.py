"""``axonic.compile`` has ``torch.compile``'s signature and forms."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import axonic
from axonic import nn
from axonic.compile import CompiledModule


def test_compile_is_callable_bare_and_as_a_decorator_with_options():
    model = nn.Linear(3, 2).eval()
    assert isinstance(axonic.compile(model), CompiledModule)
    assert isinstance(axonic.compile(mode="max-autotune")(model), CompiledModule)
    assert axonic.compile(model, disable=True) is model
    assert axonic.compile(model, backend="eager") is model

    @axonic.compile(fullgraph=True, dynamic=False)
    def affine(x, w):
        return x @ w + 1.0

    x, w = axonic.randn(4, 3), axonic.randn(3, 5)
    for _ in range(3):
        out = affine(x, w)
    assert affine.__name__ == "affine"
    assert_array_equal(out.numpy(), (x @ w + 1.0).numpy())


def test_compiled_function_reads_its_tensors_live():
    w = axonic.randn(3, 3)

    @axonic.compile
    def f(x):
        return (x @ w).tanh()

    x = axonic.randn(2, 3)
    f(x), f(x)
    w.mul_(3.0)
    assert_array_equal(f(x).numpy(), (x @ w).tanh().numpy())


def test_compiled_module_behaves_as_the_module():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    fast = axonic.compile(model)
    assert fast._orig_mod is model
    assert fast.extra_repr() == model.extra_repr()
    assert list(fast.parameters()) == list(model.parameters())
    assert set(fast.state_dict()) == {"_orig_mod.0.weight", "_orig_mod.0.bias"}
    assert fast.eval() is fast and not model.training


def test_outputs_keep_their_structure():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x, scale=2.0):
            y = self.fc(x)
            return {"y": y * scale, "both": (y, x, None)}

    model = Two()
    fast = axonic.compile(model)
    x = axonic.randn(2, 3)
    with axonic.no_grad():
        for _ in range(3):
            out = fast(x, scale=3.0)
        want = model(x, scale=3.0)
    assert_array_equal(out["y"].numpy(), want["y"].numpy())
    assert_array_equal(out["both"][0].numpy(), want["both"][0].numpy())
    assert out["both"][1] is x and out["both"][2] is None


@pytest.mark.parametrize("kwargs, error, message", [
    ({"mode": "fastest"}, ValueError, "mode must be one of .* got 'fastest'"),
    ({"backend": "tvm"}, ValueError, "backend must be one of .* got 'tvm'"),
    ({"dynamic": "yes"}, ValueError, "dynamic must be None, True or False, got 'yes'"),
    ({"options": [1]}, TypeError, "options must be a dict, got list"),
])
def test_bad_options_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        axonic.compile(nn.Linear(2, 2), **kwargs)


def test_compiling_something_not_callable_is_named():
    with pytest.raises(TypeError, match="expected a Module or a function, got ndarray"):
        axonic.compile(np.zeros(3))


@pytest.mark.parametrize("module", ["axonic.compile", "axonic.compile.trace",
                                    "axonic.compile.plan", "axonic.compile.verify"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_compiled_module_inside_a_compiled_model_is_recorded_with_it():
    inner = axonic.compile(nn.Linear(3, 3))
    model = nn.Sequential(inner, nn.ReLU()).eval()
    fast = axonic.compile(model)
    x = axonic.randn(2, 3)
    with axonic.no_grad():
        inner(x), inner(x)  # the inner one has a plan of its own
        for _ in range(3):
            out = fast(x)
        assert_array_equal(out.numpy(), model(x).numpy())
    assert [type(p).__name__ for p in fast.__dict__["_compiler"].plans.values()] == ["Plan"]


def test_a_module_passed_to_a_compiled_function_keys_plans_by_its_training_flags():
    axonic.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5))

    @axonic.compile
    def run(m, x):
        return m(x)

    x = axonic.randn(4, 3)
    model.eval()
    with axonic.no_grad():
        run(model, x), run(model, x)
        model.train()
        with pytest.warns(UserWarning, match="random numbers"):
            out = run(model, x)
    assert (out.numpy() == 0).any()  # dropout ran: the eval plan was not replayed


def test_unhashable_arguments_and_tensors_in_tuples_run_eagerly_after_one_warning():
    @axonic.compile
    def f(xs, scale):
        return xs[0] * scale[0] + xs[1]

    a, b = axonic.randn(3), axonic.randn(3)
    with pytest.warns(UserWarning, match="neither a tensor nor hashable, or holds tensors"):
        out = f((a, b), [2.0])
    assert_array_equal(out.numpy(), (a * 2.0 + b).numpy())
    with pytest.raises(axonic.compile.Unsupported, match="fullgraph=True"):
        axonic.compile(fullgraph=True)(f.__wrapped__)((a, b), (2.0,))


def test_a_forward_that_raises_leaves_the_wrapped_entry_points_restored():
    from axonic.autograd.function import Function
    from axonic.ops import inplace

    before = (Function.__dict__["apply"], axonic.Tensor.__gt__, axonic.gt, inplace.assign)

    class Broken(nn.Module):
        def forward(self, x):
            (x > 0).sum()
            raise RuntimeError("broken forward")

    with pytest.raises(RuntimeError, match="broken forward"):
        axonic.compile(Broken())(axonic.randn(2))
    after = (Function.__dict__["apply"], axonic.Tensor.__gt__, axonic.gt, inplace.assign)
    assert all(a is b for a, b in zip(before, after))


def test_the_example_of_docs_compile_md_runs():
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "COMPILE.md"
    block = doc.read_text().split("```python")[1].split("```")[0]
    namespace = {}
    exec(compile(block, "COMPILE.md", "exec"), namespace)
    assert namespace["scores"](axonic.randn(2, 3), axonic.randn(4, 3)).shape == (2, 4)

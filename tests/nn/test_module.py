import numpy as np
import pytest

import axonic
from axonic import nn
from tests.conftest import requires_torch, torch


def _small(m):
    """The same small model from either library."""
    return m.Sequential(m.Linear(3, 4), m.BatchNorm1d(4), m.ReLU(), m.Linear(4, 2))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = _small(nn)
        self.register_buffer("mask", axonic.ones(2), persistent=False)
        self.register_buffer("scale", axonic.full((1,), 2.0))

    def forward(self, x):
        return self.features(x) * self.mask * self.scale


@requires_torch
def test_state_dict_keys_and_order_equal_torch():
    ours, theirs = _small(nn), _small(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert ours.state_dict()[k].shape == tuple(v.shape), k


@requires_torch
def test_torch_weights_load_and_give_the_same_output():
    ours, theirs = _small(nn), _small(torch.nn)
    theirs.train()
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    theirs(torch.tensor(x))  # move the running stats away from their defaults
    theirs.eval()
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    ours.eval()
    np.testing.assert_allclose(ours(axonic.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert int(ours[1].num_batches_tracked) == 1


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    model = _small(nn)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    bad = {k: np.zeros(v.shape, v.dtype) for k, v in before.items()}
    del bad["3.bias"]
    bad["0.weight"] = np.zeros((5, 3), np.float32)
    bad["extra.weight"] = np.zeros(2, np.float32)
    with pytest.raises(RuntimeError) as err:
        model.load_state_dict(bad)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert "missing keys: 3.bias" in msg
    assert "unexpected keys: extra.weight" in msg
    assert "0.weight: checkpoint shape (5, 3), model shape (4, 3)" in msg
    for k, v in model.state_dict().items():
        assert np.array_equal(v.numpy(), before[k]), f"{k} changed on a failed load"


def test_load_state_dict_non_strict_returns_the_incompatible_keys():
    model = _small(nn)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    del state["1.running_mean"]
    state["head.bias"] = np.zeros(2, np.float32)
    state["0.bias"] = np.full(4, 3.0, np.float32)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_mean"]
    assert result.unexpected_keys == ["head.bias"]
    assert model[0].bias.detach().numpy().tolist() == [3.0] * 4


def test_non_persistent_buffers_are_not_saved():
    net = Net()
    keys = list(net.state_dict())
    assert "mask" not in keys and "scale" in keys
    assert [n for n, _ in net.named_buffers()][:2] == ["mask", "scale"]
    net.load_state_dict(net.state_dict())  # strict load works without the mask


@requires_torch
def test_repr_equals_torch():
    assert repr(_small(nn)) == repr(_small(torch.nn))
    nested_ours = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.LayerNorm(3), nn.GELU()))
    nested_theirs = torch.nn.Sequential(torch.nn.Linear(2, 3),
                                        torch.nn.Sequential(torch.nn.LayerNorm(3),
                                                            torch.nn.GELU()))
    assert repr(nested_ours) == repr(nested_theirs)
    ml = [nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()]
    tl = [torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()]
    assert repr(nn.ModuleList(ml)) == repr(torch.nn.ModuleList(tl))
    assert repr(nn.ModuleDict({"a": nn.ReLU()})) == repr(
        torch.nn.ModuleDict({"a": torch.nn.ReLU()}))


def test_summary_lists_layers_shapes_and_params():
    text = _small(nn).summary(input_size=(2, 3))
    assert text.splitlines() == [
        "Layer (type)       Output shape    Param #",
        "=" * 46,
        "0 (Linear)         (2, 4)          16",
        "1 (BatchNorm1d)    (2, 4)          8",
        "2 (ReLU)           (2, 4)          0",
        "3 (Linear)         (2, 2)          10",
        "=" * 46,
        "Total params: 34",
        "Trainable params: 34",
    ]


def test_summary_keeps_mode_and_running_stats():
    model = _small(nn)
    model.summary(input_size=(4, 3))
    assert model.training and model[1].training
    assert int(model[1].num_batches_tracked) == 0


def test_train_and_eval_reach_every_submodule():
    net = Net()
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match=r"train\(\): mode must be a bool, got 'yes'"):
        net.train("yes")


def test_zero_grad_sets_to_none_or_zero():
    model = _small(nn)
    model(axonic.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_apply_visits_children_first_then_self():
    seen = []
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_apply_can_reinitialise_weights():
    model = _small(nn)
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert not model[0].weight.detach().numpy().any()


def test_to_float64_converts_floats_and_keeps_parameter_objects():
    model = _small(nn)
    params = list(model.parameters())
    model.to(axonic.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    out = model(axonic.randn(4, 3, dtype=axonic.float64))
    assert out.dtype == np.float64
    with pytest.raises(TypeError, match=r"Module.to: only floating dtypes are allowed, "
                                        r"got int64"):
        model.to(axonic.int64)


def test_parameters_dedupe_shared_weights():
    enc, dec = nn.Linear(4, 4), nn.Linear(4, 4)
    dec.weight = enc.weight
    model = nn.Sequential(enc, dec)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    assert len(list(model.parameters())) == 3
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]



@requires_torch
def test_shared_weight_gets_both_gradient_contributions_like_torch():
    ours = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 4))
    theirs[2].weight = theirs[0].weight
    ours[2].weight = ours[0].weight
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    ours(axonic.tensor(x)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_forward_hooks_see_and_replace_outputs_and_can_be_removed():
    layer = nn.Linear(2, 3)
    calls = []
    h1 = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    h2 = layer.register_forward_hook(lambda m, args, out: out * 0)
    out = layer(axonic.ones(5, 2))
    assert calls == [("pre", (5, 2))] and not out.detach().numpy().any()
    h1.remove()
    h2.remove()
    assert layer(axonic.ones(5, 2)).detach().numpy().any() and len(calls) == 1


def test_module_attribute_registration_and_errors():
    m = nn.Module()
    m.w = nn.Parameter(axonic.zeros(2))
    m.child = nn.ReLU()
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"]
    with pytest.raises(TypeError, match=r"cannot assign Tensor as parameter 'w'"):
        m.w = axonic.zeros(2)
    with pytest.raises(AttributeError, match=r"'Module' object has no attribute 'nothing'"):
        m.nothing  # noqa: B018
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing its forward"):
        m(axonic.ones(1))

    class Forgot(nn.Module):
        def __init__(self):
            self.x = 1

        def forward(self, x):
            return x

    with pytest.raises(RuntimeError, match=r"Forgot: call super\(\).__init__\(\)"):
        Forgot()(axonic.ones(1))


def test_layer_error_path_goes_through_nested_models():
    net = Net()
    with pytest.raises(nn.LayerInputError,
                       match=r"^features\.0 \(Linear\): expected input with last dimension 3, "
                             r"got shape \(2, 7\)"):
        net(axonic.ones(2, 7))


def test_get_submodule_and_parameter():
    net = Net()
    assert isinstance(net.get_submodule("features.1"), nn.BatchNorm1d)
    assert net.get_parameter("features.3.bias").shape == (2,)
    with pytest.raises(AttributeError, match=r"Sequential has no submodule '9'"):
        net.get_submodule("features.9")


F_NAMES = [
    "linear", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softplus",
    "softmax", "log_softmax", "dropout", "dropout1d", "dropout2d", "mse_loss", "l1_loss",
    "huber_loss", "smooth_l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "layer_norm", "batch_norm", "group_norm",
    "embedding", "one_hot", "pad", "prelu", "hardtanh", "relu6", "hardsigmoid", "hardswish",
    "mish", "logsigmoid", "softsign", "selu", "celu", "normalize", "glu", "softmin",
    "threshold", "cosine_similarity", "pairwise_distance", "margin_ranking_loss",
    "hinge_embedding_loss", "soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "gaussian_nll_loss", "poisson_nll_loss",
]


def test_functional_is_importable_both_ways():
    import axonic.nn.functional as F
    from axonic.nn import functional

    assert F is functional
    for name in F_NAMES:
        assert callable(getattr(F, name)), name


@requires_torch
@pytest.mark.parametrize("name", F_NAMES)
def test_functional_signatures_match_torch(name):
    import inspect

    import axonic.nn.functional as F

    try:
        theirs = list(inspect.signature(getattr(torch.nn.functional, name)).parameters)
    except ValueError:  # a C builtin without a Python signature
        theirs = None
    ours = list(inspect.signature(getattr(F, name)).parameters)
    if theirs is not None:
        assert ours[:len(theirs)] == theirs, f"F.{name}{ours} vs torch {theirs}"


@requires_torch
def test_parameter_containers_register_and_print_like_torch():
    ours = nn.ParameterDict({"a": nn.Parameter(axonic.zeros(2)), "b": axonic.ones(3, 2)})
    theirs = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(2)),
                                     "b": torch.ones(3, 2)})
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "b"]
    assert isinstance(ours["b"], nn.Parameter) and ours["b"].requires_grad
    assert "a" in ours and len(ours) == 2
    plist = nn.ParameterList([axonic.zeros(2)]).extend([axonic.ones(1)])
    plist[0] = axonic.ones(4)
    assert repr(plist) == repr(
        torch.nn.ParameterList([torch.ones(4), torch.ones(1)])).replace("torch.", "axonic.")
    assert [n for n, _ in plist.named_parameters()] == ["0", "1"]
    with pytest.raises(IndexError, match=r"ParameterList: index 5 is out of range for 2"):
        plist[5]
    with pytest.raises(KeyError, match=r"ParameterDict has no parameter 'c'"):
        ours["c"]


def test_module_list_and_sequential_concatenate():
    a, b = nn.ReLU(), nn.Tanh()
    seq = nn.Sequential(a) + nn.Sequential(b)
    assert list(seq) == [a, b] and list(seq._modules) == ["0", "1"]
    ml = nn.ModuleList([a])
    ml += [b]
    assert list(ml) == [a, b] and len(ml + [nn.ReLU()]) == 3
    with pytest.raises(TypeError, match=r"Sequential: can only add a Sequential, got list"):
        nn.Sequential(a) + [b]
    with pytest.raises(IndexError, match=r"Sequential: index 3 is out of range for 2 modules"):
        seq[3]


@requires_torch
def test_full_backward_hooks_see_the_same_gradients_as_torch():
    torch.manual_seed(0)  # the weights, whatever ran before in this process
    ours, theirs = _small(nn), _small(torch.nn)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    seen = {"ours": [], "theirs": []}

    def recorder(key):
        def hook(module, grad_input, grad_output):
            seen[key].append((type(module).__name__,
                              [None if g is None else np.array(g.detach().numpy() if hasattr(
                                  g, "detach") else g) for g in grad_input],
                              [np.array(g.detach().numpy()) for g in grad_output]))
        return hook

    for i in (0, 2, 3):
        ours[i].register_full_backward_hook(recorder("ours"))
        theirs[i].register_full_backward_hook(recorder("theirs"))
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for requires_grad in (True, False):
        seen["ours"].clear()
        seen["theirs"].clear()
        ours(axonic.tensor(x, requires_grad=requires_grad)).sum().backward()
        theirs(torch.tensor(x, requires_grad=requires_grad)).sum().backward()
        assert [s[0] for s in seen["ours"]] == [s[0] for s in seen["theirs"]]
        for (_, gi_a, go_a), (_, gi_b, go_b) in zip(seen["ours"], seen["theirs"]):
            for a, b in zip(gi_a + go_a, gi_b + go_b):
                assert (a is None) == (b is None)
                if a is not None:
                    # BatchNorm's input gradient is a difference of near-equal terms:
                    # float32 rounding at the scale of the array, not of each element
                    np.testing.assert_allclose(a, b, rtol=1e-5,
                                               atol=1e-6 * max(1.0, float(np.abs(b).max())))


def test_backward_hooks_can_replace_gradients_and_be_removed():
    layer = nn.Linear(3, 2)
    x = axonic.randn(4, 3, requires_grad=True)
    layer(x).sum().backward()
    plain_w, plain_x = layer.weight.grad.numpy().copy(), x.grad.numpy().copy()
    layer.zero_grad()
    x.grad = None
    h1 = layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    h2 = layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * plain_w, rtol=1e-6)
    assert not x.grad.numpy().any()
    h1.remove()
    h2.remove()
    layer.zero_grad()
    x.grad = None
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), plain_x, rtol=1e-6)


def test_summary_rows_cover_every_parameter_of_a_transformer_layer():
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    table = layer.summary(input_size=(2, 5, 16))
    rows = [line for line in table.splitlines() if "(" in line and ")" in line
            and not line.startswith("Layer")]
    counts = [int(line.split()[-1].replace(",", "")) for line in rows]
    assert any(line.startswith("self_attn (MultiheadAttention)") for line in rows)
    assert sum(counts) == sum(p.numel() for p in layer.parameters()) == 2224

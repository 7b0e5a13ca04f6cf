"""``shrink``: physically remove pruned channels and units from Conv and Linear stacks.

Pruning only zeroes weights; the dense model still does all the work. ``shrink`` returns a
smaller dense copy: for each Conv2d/Linear whose output feeds another Conv2d/Linear, an
output channel (unit) goes when its weights are all zero (its output is then a constant,
folded into the next layer's bias) or when the next layer's weights for it are all zero
(nothing reads it). Between the two may stand BatchNorm, element-wise activations,
max / average / adaptive-average pooling, Dropout and Flatten; BatchNorm loses the same
channels.

The outputs equal the pruned model's in eval mode (BatchNorm with its running statistics),
to float rounding. A constant channel that cannot be folded exactly (the next Conv pads
with zeros, or has no bias) is kept.

>>> import axonic
>>> from axonic import nn
>>> from axonic.nn.utils import prune
>>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
>>> _ = prune.ln_structured(net[0], "weight", amount=0.5, n=2, dim=0)
>>> small = prune.shrink(net)
>>> small[0].out_features, small[2].in_features
(4, 4)
>>> x = axonic.randn(3, 4)
>>> bool(((small(x) - net(x)).abs() < 1e-5).all().item())
True
"""

from __future__ import annotations

import copy

from axonic.autograd.grad_mode import no_grad
from axonic.autograd.tensor import _make
from axonic.backend import get_array_module
from axonic.nn.parameter import Parameter


def shrink(model):
    """A smaller dense copy of ``model`` (an ``nn.Sequential``) without its pruned channels
    and units; ``model`` itself is left as it is. Pruning re-parametrisations are made
    permanent in the copy."""
    from axonic import nn
    from axonic.nn.utils import prune

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"shrink: expected an nn.Sequential of Conv2d/BatchNorm/activation/"
                        f"pooling/Flatten/Linear layers, got {type(model).__name__}")
    small = copy.deepcopy(model)
    for m in small.modules():
        for hook in list(m._forward_pre_hooks.values()):
            if isinstance(hook, prune.BasePruningMethod):
                prune.remove(m, hook._tensor_name)
    layers = list(small)
    producers = [i for i, m in enumerate(layers) if _kind(m, i) == "producer"]
    with no_grad():
        for a, b in zip(producers, producers[1:], strict=False):
            _shrink_link(layers[a], layers[a + 1:b], layers[b])
    return small


_PASS = ("Dropout", "Dropout1d", "Dropout2d", "Identity", "MaxPool2d", "MaxPool1d",
         "AdaptiveAvgPool2d", "AdaptiveAvgPool1d", "Flatten")


def _kind(m, i) -> str:
    from axonic import nn
    from axonic.nn.activation import _Activation
    from axonic.nn.normalization import _BatchNorm

    if isinstance(m, nn.Conv2d | nn.Linear):
        if isinstance(m, nn.Conv2d) and m.groups != 1:
            raise ValueError(f"shrink: layer {i} (Conv2d) has groups={m.groups}; only "
                             "groups=1 convolutions can be shrunk")
        return "producer"
    if isinstance(m, _BatchNorm):
        return "norm"
    if isinstance(m, _Activation):
        return "activation"
    if isinstance(m, nn.AvgPool2d | nn.AvgPool1d):
        return "pass" if _zero(m.padding) else "avgpad"
    if type(m).__name__ in _PASS:
        return "pass"
    raise ValueError(f"shrink: layer {i} ({type(m).__name__}) is not supported; shrink "
                     "handles Conv2d, Linear, BatchNorm, element-wise activations, pooling, "
                     "Dropout and Flatten")


def _zero(padding) -> bool:
    return all(p == 0 for p in (padding if isinstance(padding, tuple | list) else (padding,)))


def _shrink_link(producer, between, consumer) -> None:
    """Drop the producer's output channels that are constant (folding the constant into
    the consumer's bias) or unread by the consumer."""
    w = producer.weight._data
    xp = get_array_module(w)
    n = w.shape[0]
    _check_consumer(consumer, n)
    cw = consumer.weight._data
    cols = cw.reshape(cw.shape[0], n, -1)  # (out, channel, the columns reading it)
    unread = ~xp.any(cols != 0, axis=(0, 2))
    constant = ~xp.any(w.reshape(n, -1) != 0, axis=1) & ~unread
    values = _constants(producer, between, xp, n)
    foldable = _foldable(consumer, between)
    removable = unread | (constant & (foldable | (values == 0)))
    if removable.all():
        removable[xp.argmax(~constant)] = False  # keep one channel so the shapes stay valid
    fold = constant & removable & (values != 0)
    if fold.any():
        shift = (cols[:, fold] * values[fold][None, :, None]).sum(axis=(1, 2))
        consumer.bias._data = (consumer.bias._data + shift).astype(consumer.bias._data.dtype)
    keep = ~removable
    _take_out(producer, keep, xp)
    for m in between:
        if hasattr(m, "running_mean"):
            _take_norm(m, keep)
    _take_in(consumer, keep, xp)


def _check_consumer(consumer, n: int) -> None:
    """The consumer reads each of the ``n`` channels through whole columns: a Conv's
    input channel, a Linear's feature, or (after Flatten) a run of features."""
    from axonic import nn

    if isinstance(consumer, nn.Conv2d) and consumer.in_channels != n:
        raise ValueError(f"shrink: Conv2d expects {consumer.in_channels} input channels, "
                         f"the layer before gives {n}")
    if isinstance(consumer, nn.Linear) and consumer.in_features % n:
        raise ValueError(f"shrink: Linear in_features={consumer.in_features} is not a multiple "
                         f"of the {n} channels of the layer before")


def _constants(producer, between, xp, n: int):
    """The value each output channel takes at the consumer's input when its weights are
    all zero (its bias, through the layers in between, in eval mode)."""
    b = producer.bias._data if producer.bias is not None else xp.zeros(n, producer.weight.dtype)
    v = b.copy()
    for m in between:
        if hasattr(m, "running_mean") and m.running_mean is not None:
            v = (v - m.running_mean._data) / xp.sqrt(m.running_var._data + m.eps)
            if m.weight is not None:
                v = v * m.weight._data + m.bias._data
        elif hasattr(m, "running_mean"):
            v = xp.zeros_like(v) + (m.bias._data if m.bias is not None else 0)  # batch stats
        elif _kind(m, -1) == "activation":
            v = m(_make(v))._data
    return v


def _foldable(consumer, between) -> bool:
    from axonic import nn

    if consumer.bias is None or any(_kind(m, -1) == "avgpad" for m in between):
        return False
    return not isinstance(consumer, nn.Conv2d) or (_zero(consumer.padding)
                                                   and consumer.padding != "same")


def _take_out(layer, keep, xp) -> None:
    from axonic import nn

    layer.weight = Parameter(_make(xp.ascontiguousarray(layer.weight._data[keep])))
    if layer.bias is not None:
        layer.bias = Parameter(_make(layer.bias._data[keep].copy()))
    k = int(keep.sum())
    if isinstance(layer, nn.Conv2d):
        layer.out_channels = k
    else:
        layer.out_features = k


def _take_in(layer, keep, xp) -> None:
    from axonic import nn

    w = layer.weight._data
    n = keep.shape[0]
    if isinstance(layer, nn.Conv2d):
        layer.weight = Parameter(_make(xp.ascontiguousarray(w[:, keep])))
        layer.in_channels = int(keep.sum())
        return
    cols = w.reshape(w.shape[0], n, -1)[:, keep].reshape(w.shape[0], -1)
    layer.weight = Parameter(_make(xp.ascontiguousarray(cols)))
    layer.in_features = cols.shape[1]


def _take_norm(m, keep) -> None:
    for name in ("weight", "bias"):
        p = getattr(m, name)
        if p is not None:
            setattr(m, name, Parameter(_make(p._data[keep].copy())))
    for name in ("running_mean", "running_var"):
        b = getattr(m, name)
        if b is not None:
            m.register_buffer(name, _make(b._data[keep].copy()))
    m.num_features = int(keep.sum())

"""Every differentiable op, one op in one place: forward, backward and its test spec.

Import order matters only here: ``methods`` attaches the ops to ``Tensor``.
"""

from axonic.ops import methods  # noqa: F401  (attaches Tensor methods)
from axonic.ops.adaptive_pool import adaptive_avg_pool1d, adaptive_avg_pool2d
from axonic.ops.arithmetic import (
    add,
    div,
    floor_divide,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    remainder,
    sub,
)
from axonic.ops.compare import (
    allclose,
    eq,
    equal,
    ge,
    gt,
    isclose,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from axonic.ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from axonic.ops.convert import clone, to
from axonic.ops.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from axonic.ops.indexing import gather, index_select, masked_fill, nonzero, one_hot, where
from axonic.ops.join import cat, chunk, concatenate, narrow, pad, split, stack, unbind
from axonic.ops.linalg import bmm, dot, einsum, matmul, mm
from axonic.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from axonic.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    sum,
    var,
)
from axonic.ops.shape import (
    broadcast_to,
    contiguous,
    expand,
    flatten,
    flip,
    permute,
    repeat,
    reshape,
    squeeze,
    t,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
    view,
)
from axonic.ops.softmax import log_softmax, softmax
from axonic.ops.special import elu, erf, erfc, gelu, leaky_relu, prelu, silu, softplus
from axonic.ops.unary import (
    abs,
    ceil,
    clamp,
    clip,
    cos,
    exp,
    floor,
    isfinite,
    isinf,
    isnan,
    log,
    log1p,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    tanh,
    trunc,
)


def all_specs():
    """Every op's test spec, gathered from the op files."""
    import importlib

    names = ("arithmetic", "unary", "reduce", "softmax", "shape", "join", "indexing", "linalg",
             "convert", "special", "nn_fused", "recurrent", "conv", "pool", "adaptive_pool")
    return [s for n in names for s in importlib.import_module(f"axonic.ops.{n}").SPECS]

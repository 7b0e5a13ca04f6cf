"""Every differentiable op, one op in one place: forward, backward and its test spec.

Import order matters only here: ``methods`` attaches the ops to ``Tensor``.
"""

from axonic.autograd.function import set_graph_namespace as _set_graph_namespace
from axonic.ops import graph_xp as _graph_xp
from axonic.ops import (
    inplace,  # noqa: F401  (attaches the in-place methods)
    methods,  # noqa: F401  (attaches Tensor methods)
)
from axonic.ops.activations import elu, gelu, leaky_relu, prelu, relu, sigmoid, silu, softplus, tanh
from axonic.ops.adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from axonic.ops.arithmetic import (
    add,
    atan2,
    clamp_max,
    clamp_min,
    div,
    floor_divide,
    lerp,
    logaddexp,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    remainder,
    sub,
)
from axonic.ops.comparison import (
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
from axonic.ops.elementwise import (
    abs,
    atan,
    ceil,
    clamp,
    clip,
    cos,
    cosh,
    exp,
    expm1,
    floor,
    isfinite,
    isinf,
    isnan,
    log,
    log1p,
    log2,
    log10,
    nan_to_num,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    trunc,
)
from axonic.ops.indexing import (
    argsort,
    gather,
    index_select,
    masked_fill,
    masked_select,
    nonzero,
    one_hot,
    scatter,
    scatter_add,
    sort,
    topk,
    where,
)
from axonic.ops.join import cat, chunk, concatenate, narrow, pad, split, stack, unbind
from axonic.ops.linalg import bmm, dot, einsum, matmul, mm, outer
from axonic.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from axonic.ops.reductions import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from axonic.ops.shape import (
    broadcast_to,
    contiguous,
    diagonal,
    expand,
    flatten,
    flip,
    moveaxis,
    movedim,
    permute,
    repeat,
    reshape,
    roll,
    squeeze,
    t,
    tile,
    trace,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
    view,
)
from axonic.ops.softmax import log_softmax, softmax
from axonic.ops.special import erf, erfc

_set_graph_namespace(_graph_xp)  # create_graph runs backwards with axonic's own ops


def all_specs():
    """Every op's test spec, gathered from the op files."""
    import importlib

    names = ("arithmetic", "elementwise", "activations", "reductions",
             "softmax", "shape", "join", "indexing", "linalg",
             "convert", "special", "nn_fused", "recurrent", "conv", "pooling", "adaptive_pooling")
    return [s for n in names for s in importlib.import_module(f"axonic.ops.{n}").SPECS]

"""``axonic.nn.functional`` (imported as ``F``): the layers' operations as functions.

A re-export hub: each function lives beside its layer or op; this file gathers them.

>>> import axonic
>>> import axonic.nn.functional as F
>>> F.relu(axonic.tensor([-1.0, 3.0]))
tensor([0., 3.])
"""

from axonic.nn.activation import (
    celu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    log_softmax,
    logsigmoid,
    mish,
    relu,
    relu6,
    selu,
    softmax,
    softmin,
    softsign,
    threshold,
)
from axonic.nn.distance import cosine_similarity, pairwise_distance
from axonic.nn.dropout import dropout, dropout1d, dropout2d
from axonic.nn.embedding import embedding
from axonic.nn.linear import linear
from axonic.nn.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from axonic.nn.margin_loss import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from axonic.nn.normalization import batch_norm, group_norm, layer_norm, normalize
from axonic.nn.probabilistic_loss import gaussian_nll_loss, poisson_nll_loss
from axonic.ops.activations import elu, gelu, leaky_relu, prelu, sigmoid, silu, softplus, tanh
from axonic.ops.adaptive_pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
from axonic.ops.conv import conv1d, conv2d
from axonic.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from axonic.ops.indexing import one_hot
from axonic.ops.join import pad
from axonic.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

__all__ = [
    "glu", "softmin", "threshold", "cosine_similarity", "pairwise_distance",
    "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss", "soft_margin_loss",
    "triplet_margin_loss", "gaussian_nll_loss", "poisson_nll_loss",
    "celu", "selu", "normalize",
    "group_norm", "kl_div",
    "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "relu6", "softsign",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss",
    "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss", "embedding", "batch_norm", "layer_norm",
    "dropout", "dropout1d", "dropout2d", "elu", "gelu", "leaky_relu", "linear", "log_softmax",
    "one_hot", "pad", "prelu", "relu", "sigmoid", "silu", "softmax", "softplus", "tanh",
]


# --- further families: one import line each, added by the family's owner ------------------
from axonic.nn.activation_shrink import hardshrink, softshrink, tanhshrink  # noqa: F401
from axonic.nn.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401,E501
from axonic.nn.dropout import alpha_dropout, dropout3d, feature_alpha_dropout  # noqa: F401
from axonic.ops.resize import (  # noqa: F401,E501
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from axonic.ops.rms_norm import rms_norm  # noqa: F401

# --- loaded on first use (their modules are not needed by ``import axonic``) -------------
_LAZY = {name: module for module, names in {
    "axonic.nn.activation_random": ("rrelu",),
    "axonic.nn.adaptive_max_pool": ("adaptive_max_pool1d", "adaptive_max_pool2d",
                                    "adaptive_max_pool3d"),
    "axonic.nn.conv3d": ("adaptive_avg_pool3d", "avg_pool3d", "conv3d", "max_pool3d"),
    "axonic.nn.ctc_loss": ("ctc_loss",),
    "axonic.nn.embedding_bag": ("embedding_bag",),
    "axonic.nn.fold": ("fold", "unfold"),
    "axonic.nn.instancenorm": ("channel_shuffle", "instance_norm", "local_response_norm"),
    "axonic.nn.lp_pool": ("lp_pool1d", "lp_pool2d"),
    "axonic.nn.multilabel_loss": ("multi_margin_loss", "multilabel_margin_loss",
                                  "multilabel_soft_margin_loss",
                                  "triplet_margin_with_distance_loss"),
}.items() for name in names}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'axonic.nn.functional' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

"""Neural-network building blocks: ``Module``, ``Parameter``, containers, layers,
activations, losses, ``init``, ``functional`` (as ``F``) and ``utils``.

Each layer family lives in its own file; this package only re-exports them.
"""

# ruff: noqa: I001  (one import block per layer family, each kept by its owner)
from axonic.nn import functional, init
from axonic.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from axonic.nn.module import LayerInputError, Module
from axonic.nn.parameter import Parameter

# --- layer families: each block is owned by one file -----------------------------------
from axonic.nn.activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    SELU,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
    Threshold,
)
from axonic.nn.activation import Hardshrink, Softmax2d, Softshrink, Tanhshrink
from axonic.nn.distance import CosineSimilarity, PairwiseDistance
from axonic.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from axonic.nn.dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout  # noqa: E501
from axonic.nn.embedding import Embedding
from axonic.nn.flatten import Flatten, Unflatten
from axonic.nn.linear import Bilinear, Identity, Linear
from axonic.nn.distillation import DistillationLoss, KnowledgeDistillationLoss
from axonic.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from axonic.nn.margin_loss import (
    CosineEmbeddingLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from axonic.nn.probabilistic_loss import GaussianNLLLoss, PoissonNLLLoss
from axonic.nn.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm, RMSNorm  # noqa: E501
from axonic.nn.pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from axonic.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from axonic.nn.attention import MultiheadAttention
from axonic.nn.transformer import Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer  # noqa: E501

# --- loaded on first use: about a tenth of ``import axonic`` for code most programs never
# touch (graph layers, pruning, DataParallel, padding, resizing and instance-norm layers, the
# torch.nn.modules.<file> paths) ----------
_LAZY = {
    "utils": ("axonic.nn.utils", None),
    "parallel": ("axonic.nn.parallel", None),
    "modules": ("axonic.nn.modules", None),  # torch.nn.modules.<file>.<Class> paths
    "graph": ("axonic.nn.graph", None),
    "DataParallel": ("axonic.nn.parallel", "DataParallel"),
    **{f"{kind}{d}d": ("axonic.nn.padding", f"{kind}{d}d") for d in (1, 2, 3) for kind in (
        "CircularPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "ZeroPad")},
    **{n: ("axonic.nn.instancenorm", n) for n in (
        "ChannelShuffle", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
        "LocalResponseNorm")},
    **{n: ("axonic.nn.multilabel_loss", n) for n in (
        "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
        "TripletMarginWithDistanceLoss")},
    "AdaptiveMaxPool1d": ("axonic.nn.adaptive_max_pool", "AdaptiveMaxPool1d"),
    "AdaptiveMaxPool2d": ("axonic.nn.adaptive_max_pool", "AdaptiveMaxPool2d"),
    "AdaptiveMaxPool3d": ("axonic.nn.adaptive_max_pool", "AdaptiveMaxPool3d"),
    "CTCLoss": ("axonic.nn.ctc_loss", "CTCLoss"),
    **{n: ("axonic.nn.conv3d", n) for n in (
        "AdaptiveAvgPool3d", "AvgPool3d", "Conv3d", "MaxPool3d")},
    "EmbeddingBag": ("axonic.nn.embedding_bag", "EmbeddingBag"),
    "Fold": ("axonic.nn.fold", "Fold"),
    "Unfold": ("axonic.nn.fold", "Unfold"),
    "LPPool1d": ("axonic.nn.lp_pool", "LPPool1d"),
    "LPPool2d": ("axonic.nn.lp_pool", "LPPool2d"),
    "RReLU": ("axonic.nn.activation_random", "RReLU"),
    **{n: ("axonic.nn.upsampling", n) for n in (
        "PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingBilinear2d",
        "UpsamplingNearest2d")},
    **{n: ("axonic.nn.graph", n) for n in (
        "GATConv", "GCNConv", "GINConv", "MessagePassing", "SAGEConv", "global_add_pool",
        "global_max_pool", "global_mean_pool")},
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'axonic.nn' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


# ``from axonic.nn import *`` names every layer, the deferred ones included (loading them)
__all__ = sorted({n for n in globals() if not n.startswith("_")} | set(_LAZY))

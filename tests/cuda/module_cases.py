"""Layers and losses for the cuda test mode: a module factory and its inputs, per case.

``Const`` marks an input that gets no gradient (targets, indices, masks).
"""

from __future__ import annotations

import numpy as np

from axonic import nn


class Const:
    def __init__(self, array):
        self.array = np.asarray(array)


def _u(*shape, low=-1.0, high=1.0):
    return lambda r: r.uniform(low, high, shape).astype(np.float32)


def _c(fn):
    return lambda r: Const(fn(r))


def _edges(r):
    return Const(r.integers(0, 6, (2, 10)))


_SEQ = _u(5, 2, 4)
_ACTIVATIONS = ["ReLU", "GELU", "ELU", "SELU", "SiLU", "Mish", "Softplus", "LeakyReLU",
                "Hardswish", "Hardsigmoid", "Tanh", "Sigmoid", "LogSigmoid", "Softsign", "CELU",
                "ReLU6", "Hardtanh", "PReLU"]

LAYERS = {
    "Linear": (lambda: nn.Linear(8, 16), [_u(4, 8)]),
    "Bilinear": (lambda: nn.Bilinear(3, 4, 5), [_u(2, 3), _u(2, 4)]),
    "Conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1), [_u(2, 3, 10)]),
    "Conv2d": (lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), [_u(2, 3, 9, 9)]),
    "Conv2d-groups-dilation": (lambda: nn.Conv2d(4, 6, 3, dilation=2, groups=2),
                               [_u(2, 4, 9, 9)]),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(3, 2, 3, stride=2), [_u(2, 3, 5)]),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1,
                                                   output_padding=1), [_u(2, 3, 5, 5)]),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), [_u(2, 3, 8)]),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), [_u(2, 3, 7, 7)]),
    "AvgPool1d": (lambda: nn.AvgPool1d(3), [_u(2, 3, 9)]),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), [_u(2, 3, 6, 6)]),
    "AdaptiveAvgPool1d": (lambda: nn.AdaptiveAvgPool1d(3), [_u(2, 3, 7)]),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((3, 2)), [_u(2, 3, 7, 5)]),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(5), [_u(8, 5)]),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), [_u(4, 3, 5, 5)]),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(2), [_u(2, 2, 3, 3, 3)]),
    "LayerNorm": (lambda: nn.LayerNorm(6), [_u(3, 4, 6)]),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), [_u(2, 4, 3, 3)]),
    "Embedding": (lambda: nn.Embedding(10, 4, padding_idx=0),
                  [_c(lambda r: r.integers(0, 10, (3, 5)))]),
    "Embedding-max_norm": (lambda: nn.Embedding(10, 4, max_norm=1.0),
                           [_c(lambda r: r.integers(0, 10, (3, 5)))]),
    "RNN": (lambda: nn.RNN(4, 6, num_layers=2), [_SEQ]),
    "LSTM": (lambda: nn.LSTM(4, 6, bidirectional=True, batch_first=True), [_u(2, 5, 4)]),
    "GRU": (lambda: nn.GRU(4, 6), [_SEQ]),
    "LSTMCell": (lambda: nn.LSTMCell(4, 6), [_u(3, 4)]),
    "GRUCell": (lambda: nn.GRUCell(4, 6), [_u(3, 4)]),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(8, 2), [_u(5, 2, 8)] * 3),
    "TransformerEncoderLayer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
                                [_u(5, 2, 8)]),
    "TransformerDecoderLayer": (lambda: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
                                [_u(5, 2, 8), _u(4, 2, 8)]),
    "Softmax": (lambda: nn.Softmax(dim=1), [_u(3, 5)]),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), [_u(3, 5)]),
    "GLU": (lambda: nn.GLU(), [_u(3, 6)]),
    "Flatten": (lambda: nn.Flatten(), [_u(2, 3, 4)]),
    "CosineSimilarity": (lambda: nn.CosineSimilarity(), [_u(4, 5), _u(4, 5)]),
    "PairwiseDistance": (lambda: nn.PairwiseDistance(), [_u(4, 5), _u(4, 5)]),
    "GCNConv": (lambda: nn.GCNConv(4, 5), [_u(6, 4), _edges]),
    "SAGEConv": (lambda: nn.SAGEConv(4, 5), [_u(6, 4), _edges]),
    "GATConv": (lambda: nn.GATConv(4, 3, heads=2), [_u(6, 4), _edges]),
    "GINConv": (lambda: nn.GINConv(nn.Linear(4, 5)), [_u(6, 4), _edges]),
    **{name: (lambda name=name: getattr(nn, name)(), [_u(3, 7, low=-3, high=3)])
       for name in _ACTIVATIONS},
}

_LOGITS, _CLASSES = _u(6, 5, low=-2, high=2), _c(lambda r: r.integers(0, 5, (6,)))
_PROBS = _u(6, 5, low=0.05, high=0.95)
_SIGNS = _c(lambda r: r.choice([-1.0, 1.0], (6,)).astype(np.float32))

LOSSES = {
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(), [_LOGITS, _CLASSES]),
    "CrossEntropyLoss-weight-smoothing": (
        lambda: nn.CrossEntropyLoss(weight=np.linspace(0.5, 2, 5).astype(np.float32),
                                    label_smoothing=0.1), [_LOGITS, _CLASSES]),
    "CrossEntropyLoss-probabilities": (lambda: nn.CrossEntropyLoss(),
                                       [_LOGITS, _c(lambda r: r.dirichlet(np.ones(5), 6)
                                                    .astype(np.float32))]),
    "NLLLoss": (lambda: nn.NLLLoss(), [_LOGITS, _CLASSES]),
    "MSELoss": (lambda: nn.MSELoss(), [_u(6, 5), _c(_u(6, 5))]),
    "L1Loss": (lambda: nn.L1Loss(reduction="sum"), [_u(6, 5), _c(_u(6, 5))]),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(beta=0.5), [_u(6, 5), _c(_u(6, 5))]),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.5), [_u(6, 5), _c(_u(6, 5))]),
    "BCELoss": (lambda: nn.BCELoss(), [_PROBS, _c(lambda r: (r.random((6, 5)) > 0.5)
                                                  .astype(np.float32))]),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(pos_weight=np.linspace(
        0.5, 2, 5).astype(np.float32)), [_LOGITS, _c(lambda r: (r.random((6, 5)) > 0.5)
                                                     .astype(np.float32))]),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"),
                  [_u(6, 5, low=-3, high=-0.1), _c(_PROBS)]),
    "PoissonNLLLoss": (lambda: nn.PoissonNLLLoss(), [_u(6, 5), _c(_u(6, 5, low=0, high=3))]),
    "GaussianNLLLoss": (lambda: nn.GaussianNLLLoss(),
                        [_u(6, 5), _c(_u(6, 5)), _u(6, 5, low=0.1, high=2)]),
    "CosineEmbeddingLoss": (lambda: nn.CosineEmbeddingLoss(margin=0.1),
                            [_u(6, 4), _u(6, 4), _SIGNS]),
    "MarginRankingLoss": (lambda: nn.MarginRankingLoss(margin=0.2), [_u(6), _u(6), _SIGNS]),
    "HingeEmbeddingLoss": (lambda: nn.HingeEmbeddingLoss(), [_u(6, 5), _c(lambda r: r.choice(
        [-1.0, 1.0], (6, 5)).astype(np.float32))]),
    "SoftMarginLoss": (lambda: nn.SoftMarginLoss(), [_u(6, 5), _c(lambda r: r.choice(
        [-1.0, 1.0], (6, 5)).astype(np.float32))]),
    "TripletMarginLoss": (lambda: nn.TripletMarginLoss(), [_u(6, 4), _u(6, 4), _u(6, 4)]),
}

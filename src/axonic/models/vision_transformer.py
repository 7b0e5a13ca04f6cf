"""The Vision Transformer (Dosovitskiy et al., 2020): image patches as tokens, with
torchvision's class names, constructor arguments and ``state_dict`` keys (``conv_proj``,
``class_token``, ``encoder.pos_embedding``, ``encoder.layers.encoder_layer_0.ln_1`` ...,
``heads.head``): ``VisionTransformer``, ``vit_b_16``, ``vit_b_32``, ``vit_l_16``,
``vit_l_32``."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

from axonic.autograd.tensor import Tensor
from axonic.models._weights import check_weights, load_weights
from axonic.nn import init
from axonic.nn.activation import GELU, Tanh
from axonic.nn.attention import MultiheadAttention
from axonic.nn.containers import Sequential
from axonic.nn.conv import Conv2d
from axonic.nn.dropout import Dropout
from axonic.nn.linear import Linear
from axonic.nn.module import Module
from axonic.nn.normalization import LayerNorm
from axonic.nn.parameter import Parameter
from axonic.ops.creation import zeros
from axonic.ops.join import cat

_LAYER_NORM = partial(LayerNorm, eps=1e-6)  # torchvision's default norm_layer


class MLPBlock(Sequential):
    """Transformer MLP: Linear, GELU, Dropout, Linear, Dropout (keys ``0`` and ``3``)."""

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float):
        super().__init__(Linear(in_dim, mlp_dim), GELU(), Dropout(dropout),
                         Linear(mlp_dim, in_dim), Dropout(dropout))
        for m in self.modules():
            if isinstance(m, Linear):
                init.xavier_uniform_(m.weight)
                init.normal_(m.bias, std=1e-6)


class EncoderBlock(Module):
    """Pre-norm Transformer encoder block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=_LAYER_NORM):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = MultiheadAttention(hidden_dim, num_heads,
                                                 dropout=attention_dropout, batch_first=True)
        self.dropout = Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input: Tensor) -> Tensor:
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(Module):
    """Learned position embeddings, a stack of ``EncoderBlock`` and a final LayerNorm."""

    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                 attention_dropout, norm_layer=_LAYER_NORM):
        super().__init__()
        self.pos_embedding = Parameter(zeros(1, seq_length, hidden_dim))
        init.normal_(self.pos_embedding, std=0.02)  # from BERT
        self.dropout = Dropout(dropout)
        self.layers = Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input: Tensor) -> Tensor:
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(Module):
    """Cut the image into ``patch_size`` squares, embed each with one strided convolution
    (``conv_proj``), prepend a learned class token, add position embeddings, run a
    Transformer encoder and classify the class token with ``heads``.

    Arguments as torchvision's; ``conv_stem_configs`` is not supported. Inputs are
    ``(N, 3, image_size, image_size)``.

    >>> import axonic
    >>> vit = VisionTransformer(image_size=28, patch_size=7, num_layers=2, num_heads=2,
    ...                         hidden_dim=16, mlp_dim=32, num_classes=10)
    >>> vit(axonic.randn(4, 3, 28, 28)).shape
    (4, 10)
    """

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 representation_size: int | None = None,
                 norm_layer=_LAYER_NORM, conv_stem_configs=None):
        super().__init__()
        for name, v in (("image_size", image_size), ("patch_size", patch_size),
                        ("num_layers", num_layers), ("num_heads", num_heads),
                        ("hidden_dim", hidden_dim), ("mlp_dim", mlp_dim),
                        ("num_classes", num_classes)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"VisionTransformer: {name} must be a positive int, "
                                 f"got {v!r}")
        if image_size % patch_size:
            raise ValueError(f"VisionTransformer: image_size must be divisible by patch_size, "
                             f"got image_size={image_size} and patch_size={patch_size}")
        if conv_stem_configs is not None:
            raise ValueError("VisionTransformer: conv_stem_configs is not supported, got "
                             f"{conv_stem_configs!r}")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer
        self.conv_proj = Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = Parameter(zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout, norm_layer)
        self.seq_length = seq_length
        heads = OrderedDict()
        if representation_size is None:
            heads["head"] = Linear(hidden_dim, num_classes)
        else:
            heads["pre_logits"] = Linear(hidden_dim, representation_size)
            heads["act"] = Tanh()
            heads["head"] = Linear(representation_size, num_classes)
        self.heads = Sequential(heads)
        self._init_weights(representation_size)

    def _init_weights(self, representation_size):
        fan_in = self.conv_proj.in_channels * self.patch_size ** 2
        init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        init.zeros_(self.conv_proj.bias)
        if representation_size is not None:
            pre = self.heads.pre_logits
            init.trunc_normal_(pre.weight, std=math.sqrt(1 / pre.in_features))
            init.zeros_(pre.bias)
        init.zeros_(self.heads.head.weight)
        init.zeros_(self.heads.head.bias)

    def _process_input(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) images -> (N, H*W / patch_size**2, hidden_dim) patch tokens."""
        if not isinstance(x, Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != (
                3, self.image_size, self.image_size):
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise self.input_error(f"expected images of shape (N, 3, {self.image_size}, "
                                   f"{self.image_size}), got {got}")
        n, p = x.shape[0], self.patch_size
        x = self.conv_proj(x).reshape(n, self.hidden_dim, (self.image_size // p) ** 2)
        return x.permute(0, 2, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self._process_input(x)
        x = cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return self.heads(self.encoder(x)[:, 0])


def _vision_transformer(patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights,
                        progress, **kwargs) -> VisionTransformer:
    check_weights(weights, "VisionTransformer")
    kwargs.setdefault("image_size", 224)
    model = VisionTransformer(patch_size=patch_size, num_layers=num_layers,
                              num_heads=num_heads, hidden_dim=hidden_dim, mlp_dim=mlp_dim,
                              **kwargs)
    return load_weights(model, weights)


def vit_b_16(*, weights=None, progress=True, **kwargs) -> VisionTransformer:
    """ViT-B/16: 12 layers, 12 heads, width 768, MLP 3072, 16x16 patches of 224x224 images.
    ``weights``: None, a state_dict or a ``.safetensors`` / ``.npz`` path.

    >>> vit_b_16(num_classes=10).encoder.pos_embedding.shape
    (1, 197, 768)
    """
    return _vision_transformer(16, 12, 12, 768, 3072, weights, progress, **kwargs)


def vit_b_32(*, weights=None, progress=True, **kwargs) -> VisionTransformer:
    """ViT-B/32: as ViT-B/16 with 32x32 patches."""
    return _vision_transformer(32, 12, 12, 768, 3072, weights, progress, **kwargs)


def vit_l_16(*, weights=None, progress=True, **kwargs) -> VisionTransformer:
    """ViT-L/16: 24 layers, 16 heads, width 1024, MLP 4096, 16x16 patches."""
    return _vision_transformer(16, 24, 16, 1024, 4096, weights, progress, **kwargs)


def vit_l_32(*, weights=None, progress=True, **kwargs) -> VisionTransformer:
    """ViT-L/32: as ViT-L/16 with 32x32 patches."""
    return _vision_transformer(32, 24, 16, 1024, 4096, weights, progress, **kwargs)

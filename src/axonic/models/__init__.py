"""Ready-made models with the leading libraries' names: ``Perceptron``, ``LeNet5``,
torchvision's ``ResNet`` (``resnet18/34/50``) and ``VisionTransformer`` (``vit_b_16`` ...),
a ``GPT`` and Hugging Face's ``BertModel`` (with ``BertTokenizer`` and
``SentenceTransformer`` for the all-MiniLM-L6-v2 sentence embeddings); ``transfer`` holds
the fine-tuning helpers (freezing, per-layer learning rates)."""

from axonic.models.bert import BertConfig, BertModel
from axonic.models.bert_tokenizer import BertTokenizer
from axonic.models.gpt import GPT, GPTConfig
from axonic.models.lenet import LeNet5
from axonic.models.perceptron import Perceptron
from axonic.models.resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50
from axonic.models.sentence_transformer import SentenceTransformer, all_minilm_l6_v2
from axonic.models.vision_transformer import (
    VisionTransformer,
    vit_b_16,
    vit_b_32,
    vit_l_16,
    vit_l_32,
)

__all__ = ["BasicBlock", "BertConfig", "BertModel", "BertTokenizer", "Bottleneck", "GPT",
           "GPTConfig", "LeNet5", "Perceptron", "ResNet", "SentenceTransformer",
           "VisionTransformer", "all_minilm_l6_v2", "resnet18", "resnet34", "resnet50",
           "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32"]

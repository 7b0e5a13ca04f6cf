"""Transfer learning: fine-tune the pre-trained all-MiniLM-L6-v2 sentence encoder to
classify short sentences into four topics from 8 labelled examples per topic, and train
the same architecture from scratch on the same data for comparison.

The pre-trained model is fine-tuned top-down: the new head first, then the upper encoder
layers, then the rest (``GradualUnfreezing``), with smaller learning rates for lower
layers (``discriminative_param_groups``).

    python examples/transfer_minilm.py
"""

import sys
from pathlib import Path

import numpy as np

import axonic
from axonic import nn, optim
from axonic.models import BertModel, all_minilm_l6_v2
from axonic.models.sentence_transformer import mean_pooling
from axonic.models.transfer import discriminative_param_groups
from axonic.train import Trainer
from axonic.train.callbacks.unfreeze import GradualUnfreezing

sys.path.insert(0, str(Path(__file__).parent))
import _topics  # noqa: E402


class SentenceClassifier(nn.Module):
    """BERT token states, mean-pooled over the real tokens, then a linear head."""

    def __init__(self, bert, num_classes):
        super().__init__()
        self.bert = bert
        self.head = nn.Linear(bert.config.hidden_size, num_classes)

    def forward(self, input_ids):
        mask = (input_ids.numpy() != 0).astype(np.int64)  # [PAD] is id 0
        h = self.bert(input_ids, attention_mask=mask).last_hidden_state
        return self.head(mean_pooling(h, mask))

    def layer_groups(self):
        """Input to output: embeddings and lower half, upper half, head."""
        layers = list(self.bert.encoder.layer)
        half = len(layers) // 2
        low = [self.bert.embeddings, *layers[:half]]
        return ([p for m in low for p in m.parameters()],
                [p for m in layers[half:] for p in m.parameters()], self.head)


def run(model, x, y, x_test, y_test, epochs, lr, pretrained):
    groups = model.layer_groups()
    if pretrained:  # lower layers move less; unfreeze from the top, one group per epoch
        opt = optim.AdamW(discriminative_param_groups(groups, lr=lr, decay=2.6))
        callbacks = [GradualUnfreezing(groups)]
    else:
        opt = optim.AdamW(model.parameters(), lr=lr)
        callbacks = []
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), metrics=["accuracy"],
                      callbacks=callbacks, seed=0)
    trainer.fit((x, y), epochs=epochs, batch_size=16, verbose=0)
    model.eval()
    return trainer.evaluate((x_test, y_test))["accuracy"]


def main(epochs=6, n_train_per_class=8):
    axonic.manual_seed(0)
    encoder = all_minilm_l6_v2()
    tok = encoder.tokenizer
    texts, y, test_texts, y_test = _topics.split(n_train_per_class)
    width = max(len(tok.encode(t)) for t in texts + test_texts)

    def ids(ts):  # one padded width for all, so every batch has the same shape
        batch = tok(ts, max_length=width)["input_ids"]
        return axonic.tensor(np.pad(batch, ((0, 0), (0, width - batch.shape[1]))))

    x, x_test = ids(texts), ids(test_texts)
    y, y_test = axonic.tensor(y), axonic.tensor(y_test)

    fine_tuned = SentenceClassifier(encoder.bert.train(), len(_topics.LABELS))
    acc_ft = run(fine_tuned, x, y, x_test, y_test, epochs, 2e-4, pretrained=True)
    scratch = SentenceClassifier(BertModel(encoder.bert.config), len(_topics.LABELS))
    acc_scratch = run(scratch, x, y, x_test, y_test, epochs, 2e-4, pretrained=False)
    print(f"{len(texts)} training sentences, {len(test_texts)} test sentences, "
          f"{len(_topics.LABELS)} topics (chance 25%)")
    print(f"fine-tuned all-MiniLM-L6-v2: test accuracy {acc_ft:.1%}")
    print(f"same model from scratch:     test accuracy {acc_scratch:.1%}")
    return acc_ft, acc_scratch


if __name__ == "__main__":
    main()

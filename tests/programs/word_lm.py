"""A word-level LSTM language model with truncated BPTT and a hand-written SGD update, as
the public word_language_model example has it; the corpus is scikit-learn's dataset
descriptions."""

import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


class Corpus:
    def __init__(self, text):
        self.idx2word, self.word2idx = [], {}
        ids = []
        for line in text.splitlines():
            for word in line.split() + ["<eos>"]:
                if word not in self.word2idx:
                    self.word2idx[word] = len(self.idx2word)
                    self.idx2word.append(word)
                ids.append(self.word2idx[word])
        ids = torch.tensor(ids, dtype=torch.int64)
        n = len(ids)
        self.train, self.valid = ids[: n * 9 // 10], ids[n * 9 // 10:]


def load_corpus():
    from sklearn import datasets

    names = ("iris", "wine", "digits", "breast_cancer", "diabetes")
    return Corpus("".join(getattr(datasets, f"load_{n}")().DESCR for n in names))


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def evaluate(model, data_source, bptt, eval_batch_size):
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * F.nll_loss(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train(model, train_data, lr, bptt, batch_size, clip=0.25, max_batches=None, log=print,
          log_interval=5):
    model.train()
    total_loss = 0.
    start_time = time.time()
    hidden = model.init_hidden(batch_size)
    losses = []
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        if max_batches is not None and batch >= max_batches:
            break
        data, targets = get_batch(train_data, i, bptt)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = F.nll_loss(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        losses.append(loss.item())
        if batch % log_interval == 0 and batch > 0:
            cur_loss = total_loss / log_interval
            elapsed = time.time() - start_time
            log(f"| {batch:5d} batches | lr {lr:02.2f} | ms/batch "
                f"{elapsed * 1000 / log_interval:5.2f} | loss {cur_loss:5.2f} | "
                f"ppl {math.exp(cur_loss):8.2f}")
            total_loss = 0
            start_time = time.time()
    return losses


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    epochs = int(argv[0]) if argv else 1
    torch.manual_seed(1111)
    corpus = load_corpus()
    train_data, val_data = batchify(corpus.train, 10), batchify(corpus.valid, 5)
    model = RNNModel("LSTM", len(corpus.idx2word), 32, 32, 2, dropout=0.2, tie_weights=True)
    lr, best_val_loss = 20.0, None
    for epoch in range(1, epochs + 1):
        train(model, train_data, lr, 12, 10, max_batches=10)
        val_loss = evaluate(model, val_data, 12, 5)
        print(f"| end of epoch {epoch:3d} | valid loss {val_loss:5.2f} | "
              f"valid ppl {math.exp(val_loss):8.2f}")
        if not best_val_loss or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            lr /= 4.0
    return best_val_loss


if __name__ == "__main__":
    main()

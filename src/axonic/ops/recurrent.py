"""Fused recurrent layers: one direction of one RNN, LSTM or GRU layer over a whole
sequence as a single Function, with a hand-written backward through time.

Fused for speed (DESIGN.md rule 1): each step is one GEMM on the stacked ``[h; 1; x]``
(input, bias and hidden state at once; the GRU's on ``[h; 1]``, its input side batched
before the loop; ``recurrent_gemm``) and its gate math in a few in-place NumPy calls;
after the backward loop the weight gradients are one GEMM over all steps, instead of ~10
graph nodes per step. Without gradients nothing is saved. All three kernels share one
memory layout and one memory policy (``recurrent_layout``); each lives in its own file
with its reference and test specs. The sequence is time-major ``x: (T, B, I)``;
``reverse=True`` runs it from the last step to the first (the backward direction of a
bidirectional layer). Cells are the same Functions with ``T = 1``.

Outputs: ``rnn_sequence`` and ``gru_sequence`` return ``(T, B, H)``, the hidden state at
every time step; ``lstm_sequence`` returns ``(T + 1, B, H)``: the hidden states and, as
row ``T``, the final cell state (a Function has one output; the caller slices it).

>>> import axonic
>>> x = axonic.randn(5, 2, 3)
>>> w_ih, w_hh = axonic.randn(16, 3), axonic.randn(16, 4)
>>> b, h0 = axonic.zeros(16), axonic.zeros(2, 4)
>>> lstm_sequence(x, w_ih, w_hh, b, b, h0, h0).shape
(6, 2, 4)
"""

from __future__ import annotations

from axonic.ops.recurrent_gru import GRUSequence, gru_sequence
from axonic.ops.recurrent_lstm import LSTMSequence, lstm_sequence
from axonic.ops.recurrent_rnn import RNNSequence, rnn_sequence

__all__ = ["GRUSequence", "LSTMSequence", "RNNSequence", "gru_sequence", "lstm_sequence",
           "rnn_sequence"]


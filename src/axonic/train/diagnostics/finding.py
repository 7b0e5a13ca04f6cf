"""``Finding``: one training pathology, where and when it was seen, the evidence, and what
to do about it; ``ADVICE`` holds each kind's remedy."""

from __future__ import annotations

from dataclasses import dataclass, field

ADVICE = {
    "vanishing_gradients": "use a ReLU-family activation instead of sigmoid/tanh, He "
                           "(kaiming) initialisation, residual connections or batch "
                           "normalisation between layers",
    "exploding_gradients": "clip the gradient norm (Trainer(clip_grad_norm=1.0)), lower the "
                           "learning rate, or normalise activations (batch/layer norm)",
    "dead_relu": "use Leaky ReLU or ELU, lower the learning rate, and initialise biases at "
                 "zero (or small positive) with He initialisation",
    "saturated_activations": "rescale the initial weights (Xavier/Glorot for tanh and "
                             "sigmoid), normalise the inputs, or switch to a ReLU-family "
                             "activation",
    "poor_initialization": "initialise with Xavier/Glorot (tanh, sigmoid) or He/kaiming "
                           "(ReLU) so each layer keeps its activations' variance",
    "overfitting": "add dropout or L2 weight decay (Trainer(l2=...)), stop early "
                   "(EarlyStopping(restore_best_weights=True)), augment the data or get more",
    "divergence": "lower the learning rate (try 10x smaller or run lr_find), clip gradients, "
                  "and check the inputs and targets for NaN/Inf",
    "learning_rate_too_high": "lower the learning rate by 3-10x, or warm it up; a "
                              "learning-rate range test finds a good one",
    "learning_rate_too_low": "raise the learning rate by 10x or more; a learning-rate range "
                             "test finds a good one",
    "loss_not_decreasing": "check the labels and the loss function, raise the learning rate, "
                           "or make the model larger; try to overfit one small batch first",
    "class_imbalance": "weight the loss by inverse class frequency "
                       "(CrossEntropyLoss(weight=...)), resample the classes, or report "
                       "per-class metrics such as f1_macro rather than accuracy",
    "unchanged_weights": "make sure the parameter requires grad, is used in forward and is "
                         "given to the optimizer (or leave it out on purpose)",
}

KINDS = tuple(ADVICE)


@dataclass
class Finding:
    """A pathology seen while training.

    ``kind`` is one of ``KINDS``; ``layer`` the module or parameter name (None for the
    whole model); ``epoch`` and ``step`` count from 0; ``evidence`` the numbers behind it.

    >>> f = Finding("dead_relu", "1", 0, 10, {"dead_fraction": 0.9}, "90% of units are dead")
    >>> str(f).split(". Remedy: ")[0]
    "dead_relu in layer '1' (epoch 1, step 10): 90% of units are dead"
    """

    kind: str
    layer: str | None
    epoch: int
    step: int
    evidence: dict = field(default_factory=dict)
    message: str = ""
    advice: str = ""

    def __post_init__(self):
        if self.kind not in ADVICE:
            raise ValueError(f"Finding: kind must be one of {', '.join(KINDS)}, "
                             f"got {self.kind!r}")
        if not self.advice:
            self.advice = ADVICE[self.kind]

    def __str__(self) -> str:
        where = f" in layer {self.layer!r}" if self.layer is not None else ""
        return (f"{self.kind}{where} (epoch {self.epoch + 1}, step {self.step}): "
                f"{self.message}. Remedy: {self.advice}.")

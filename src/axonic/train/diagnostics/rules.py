"""The thresholds that turn sampled statistics into findings, after SageMaker Debugger's
built-in rules (VanishingGradient, ExplodingTensor, DeadRelu, SaturatedActivation,
PoorWeightInitialization, Overfit, LossNotDecreasing, ClassImbalance) and the Deep
Learning Tuning Playbook. docs/INSIGHT.md lists them with their reasons."""

from __future__ import annotations

import numpy as np

VANISHING_RATIO = 1e-3     # first / last weight layer's gradient RMS (median of samples)
EXPLODING_RATIO = 1e3      # the same ratio, the other way
EXPLODING_GROWTH = 1e3     # a layer's gradient norm over its first sampled value
DEAD_FRACTION = 0.5        # share of a ReLU's units never positive on the sampled batches
SATURATED_FRACTION = 0.5   # share of tanh/sigmoid outputs in the flat tails
BLOW_UP = 10.0             # a batch loss over the first batch loss
LR_HIGH_RATIO = 1.0        # one sampled step's update/weight ratio of a weight matrix
LR_LOW_RATIO = 1e-5        # median ratio of the most-moved weight matrix, first epoch
LR_LOW_PROGRESS = 0.01     # and the first epoch's loss fell by less than this share
OVERFIT_PATIENCE = 5       # epochs since the best validation loss
OVERFIT_RISE = 0.1         # validation loss above its best by this share
PLATEAU_EPOCHS = 3         # recent epochs that failed to improve on the best loss by 1 %
PLATEAU_LEFT = 0.5         # ... while the loss is still above this share of the first
IMBALANCE_RATIO = 10.0     # typical (median) class count / a rare class's count
MISPREDICTED = 0.7         # ... and the share of a rare class's examples the model gets wrong
CHECKED_EXAMPLES = 2048    # training examples predicted at the end to measure that


def rms(norm: float, size: int) -> float:
    return norm / max(size, 1) ** 0.5


def gradient_spread(samples: list[dict], sizes: dict):
    """``(kind, layer, evidence)`` when the first weight layer's median gradient RMS is far
    below (vanishing) or far above (exploding) the last one's."""
    names = [n for n in sizes if sizes[n][1] >= 2]
    if len(names) < 2 or not samples:
        return None
    per_layer = {n: float(np.median([rms(s.get(n, 0.0), sizes[n][0]) for s in samples]))
                 for n in names}
    first, last = per_layer[names[0]], per_layer[names[-1]]
    if last > 0 and first / last < VANISHING_RATIO:
        low = min(per_layer, key=per_layer.get)
        return "vanishing_gradients", low, {"grad_rms": per_layer, "ratio": first / last}
    if first > 0 and last > 0 and first / last > EXPLODING_RATIO:
        high = max(per_layer, key=per_layer.get)
        return "exploding_gradients", high, {"grad_rms": per_layer, "ratio": first / last}
    return None


def exploding(first: dict, now: dict):
    for name, value in now.items():
        if not np.isfinite(value):
            return name, {"grad_norm": value}
        base = first.get(name)
        if base and value > EXPLODING_GROWTH * base:
            return name, {"grad_norm": value, "first_grad_norm": base, "growth": value / base}
    return None


def overfitting(train: list[float], val: list[float]):
    """(epoch the validation loss turned, evidence) or None."""
    if len(val) <= OVERFIT_PATIENCE:
        return None
    best = int(np.argmin(val))
    now = len(val) - 1
    if (now - best >= OVERFIT_PATIENCE and val[now] > (1 + OVERFIT_RISE) * val[best]
            and train[now] < train[best]):
        return best, {"best_val_loss": val[best], "val_loss": val[now],
                      "train_loss_at_best": train[best], "train_loss": train[now],
                      "turned_at_epoch": best + 1}
    return None


def plateau(train: list[float]):
    if len(train) < PLATEAU_EPOCHS + 2:
        return None
    before = min(train[:-PLATEAU_EPOCHS])
    recent = min(train[-PLATEAU_EPOCHS:])
    if recent >= 0.99 * before and train[-1] > PLATEAU_LEFT * train[0]:
        return {"first_loss": train[0], "best_before": before, "recent_best": recent,
                "epochs": PLATEAU_EPOCHS}
    return None


def imbalance(targets: np.ndarray, predictions: np.ndarray):
    """Evidence when a class is over ``IMBALANCE_RATIO`` times rarer than the typical class
    and the model gets most of its examples wrong (SageMaker's ClassImbalance has both
    thresholds; it compares with the most frequent class, the median here, so that a long
    tail such as the letters of a text is not taken for a starved class)."""
    if targets.dtype.kind not in "iub" or targets.ndim != 1 or targets.size == 0:
        return None
    classes, counts = np.unique(targets, return_counts=True)
    typical = float(np.median(counts))
    if len(classes) < 2 or typical <= IMBALANCE_RATIO * counts.min():
        return None
    recall = {int(c): float(np.mean(predictions[targets == c] == c))
              for c, k in zip(classes, counts) if k * IMBALANCE_RATIO < typical}
    missed = {c: r for c, r in recall.items() if r < 1 - MISPREDICTED}
    if not missed:
        return None
    return {"counts": {int(c): int(k) for c, k in zip(classes, counts)},
            "ratio": typical / float(counts.min()), "recall_of_rare_classes": missed}

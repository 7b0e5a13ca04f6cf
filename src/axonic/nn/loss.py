"""Losses: ``MSELoss``, ``L1Loss``, ``HuberLoss``, ``SmoothL1Loss``, ``CrossEntropyLoss``,
``NLLLoss``, ``BCELoss``, ``BCEWithLogitsLoss``, ``KLDivLoss``, and their functional forms.

Each family lives in its own file (``regression_loss``, ``classification_loss``,
``divergence_loss``; what they share in ``loss_base``); this module keeps every name
importable from ``axonic.nn.loss``.
"""

from axonic.nn.classification_loss import (  # noqa: F401
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    NLLLoss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    nll_loss,
)
from axonic.nn.divergence_loss import KLDivLoss, kl_div  # noqa: F401
from axonic.nn.loss_base import (  # noqa: F401  (used by the other loss files)
    _as_tensor,
    _check_pair,
    _Loss,
    _reduce,
    _reduction,
    _WeightedLoss,
)
from axonic.nn.regression_loss import (  # noqa: F401
    HuberLoss,
    L1Loss,
    MSELoss,
    SmoothL1Loss,
    huber_loss,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)

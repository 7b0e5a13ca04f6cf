"""``torch.nn.modules``: the layers under the module paths PyTorch programs import from.

>>> from axonic.nn.modules.activation import MultiheadAttention
>>> import axonic
>>> MultiheadAttention is axonic.nn.MultiheadAttention
True
"""

# ruff: noqa: F401, F403
from axonic.nn.modules import (
    activation,
    batchnorm,
    channelshuffle,
    container,
    conv,
    distance,
    dropout,
    flatten,
    fold,
    instancenorm,
    linear,
    loss,
    module,
    normalization,
    padding,
    pixelshuffle,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
)
from axonic.nn.modules.activation import *
from axonic.nn.modules.batchnorm import *
from axonic.nn.modules.channelshuffle import *
from axonic.nn.modules.container import *
from axonic.nn.modules.conv import *
from axonic.nn.modules.distance import *
from axonic.nn.modules.dropout import *
from axonic.nn.modules.flatten import *
from axonic.nn.modules.fold import *
from axonic.nn.modules.instancenorm import *
from axonic.nn.modules.linear import *
from axonic.nn.modules.loss import *
from axonic.nn.modules.module import *
from axonic.nn.modules.normalization import *
from axonic.nn.modules.padding import *
from axonic.nn.modules.pixelshuffle import *
from axonic.nn.modules.pooling import *
from axonic.nn.modules.rnn import *
from axonic.nn.modules.sparse import *
from axonic.nn.modules.transformer import *
from axonic.nn.modules.upsampling import *

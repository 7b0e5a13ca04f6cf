"""Federated learning: ``FedAvg`` / ``FedProx`` simulated over many clients, IID and
Dirichlet (non-IID) splits, secure-aggregation-style masking, and (with the ``federated``
extra) a Flower ``NumPyClient`` built from an axonic model.

>>> from axonic.federated import FedAvg, iid_split
>>> [len(p) for p in iid_split(6, 2)]
[3, 3]
"""

from axonic.federated.client import local_train
from axonic.federated.secure import mask_updates
from axonic.federated.splits import dirichlet_split, iid_split
from axonic.federated.strategy import FedAvg, FedProx

__all__ = ["FedAvg", "FedProx", "dirichlet_split", "iid_split", "local_train",
           "mask_updates"]

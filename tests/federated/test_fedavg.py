"""FedAvg / FedProx: the equivalence with centralised gradient descent, weighted
averaging, client sampling, secure-aggregation masking, and the error messages."""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.federated import FedAvg, FedProx, mask_updates
from tests.conftest import torch


def _data(n_clients=4, rows=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_clients * rows, 5))
    y = rng.integers(0, 3, n_clients * rows)
    return x, y, [(x[k * rows:(k + 1) * rows], y[k * rows:(k + 1) * rows])
                  for k in range(n_clients)]


def _model():
    axonic.manual_seed(1)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_fedavg_one_full_batch_step_equals_centralised_gradient_descent():
    x, y, clients = _data()
    fed = FedAvg(_model(), clients, nn.CrossEntropyLoss(), lr=0.3, local_epochs=1,
                 batch_size=None)
    central = _model()
    sgd = optim.SGD(central.parameters(), lr=0.3)
    for _ in range(5):
        fed.round()
        loss = nn.functional.cross_entropy(central(axonic.tensor(x)), axonic.tensor(y))
        sgd.zero_grad()
        loss.backward()
        sgd.step()
    ours, want = _weights(fed.model), _weights(central)
    assert ours.keys() == want.keys()
    for k in ours:
        np.testing.assert_allclose(ours[k], want[k], rtol=0, atol=1e-6, err_msg=k)
    assert max(np.abs(ours[k] - _weights(_model())[k]).max() for k in ours) > 1e-2


def test_fedavg_equivalence_holds_with_secure_aggregation_masks():
    x, y, clients = _data()
    plain = FedAvg(_model(), clients, nn.CrossEntropyLoss(), lr=0.3)
    masked = FedAvg(_model(), clients, nn.CrossEntropyLoss(), lr=0.3, secure_aggregation=True)
    for _ in range(3):
        plain.round()
        masked.round()
    for k, v in _weights(plain.model).items():
        np.testing.assert_allclose(_weights(masked.model)[k], v, atol=1e-9, err_msg=k)


def test_masked_updates_hide_each_client_but_sum_to_the_truth():
    rng = np.random.default_rng(0)
    updates = [rng.standard_normal(50) for _ in range(4)]
    masked = mask_updates(updates, [3, 0, 9, 5], round_seed=2)
    np.testing.assert_allclose(sum(masked), sum(updates), atol=1e-12)
    for u, m in zip(updates, masked):
        assert np.abs(u - m).mean() > 0.5  # each upload is far from its true update


def test_fedavg_weights_clients_by_their_sample_counts():
    # two clients with one local step each: the average is weighted 1:3 by their sizes
    rng = np.random.default_rng(3)
    small = (rng.standard_normal((4, 5)), rng.integers(0, 3, 4))
    large = (rng.standard_normal((12, 5)), rng.integers(0, 3, 12))
    fed = FedAvg(_model(), [small, large], nn.CrossEntropyLoss(), lr=0.5)
    fed.round()
    after = []
    for data in (small, large):
        m = _model()
        opt = optim.SGD(m.parameters(), lr=0.5)
        loss = nn.functional.cross_entropy(m(axonic.tensor(data[0])), axonic.tensor(data[1]))
        loss.backward()
        opt.step()
        after.append(_weights(m))
    for k, v in _weights(fed.model).items():
        np.testing.assert_allclose(v, 0.25 * after[0][k] + 0.75 * after[1][k], atol=1e-12)


def test_fraction_fit_samples_that_many_distinct_clients_per_round():
    _, _, clients = _data(n_clients=10, rows=3)
    fed = FedAvg(_model(), clients, nn.CrossEntropyLoss(), fraction_fit=0.3, seed=4)
    seen = [fed.round()["clients"] for _ in range(6)]
    assert all(len(c) == len(set(c)) == 3 for c in seen)
    assert len({tuple(c) for c in seen}) > 1


def test_fedprox_with_mu_zero_is_fedavg_and_mu_pulls_towards_the_global_weights():
    _, _, clients = _data()
    kwargs = dict(lr=0.2, local_epochs=3, batch_size=4, seed=0)
    avg = FedAvg(_model(), clients, nn.CrossEntropyLoss(), **kwargs)
    prox0 = FedProx(_model(), clients, nn.CrossEntropyLoss(), proximal_mu=0.0, **kwargs)
    prox = FedProx(_model(), clients, nn.CrossEntropyLoss(), proximal_mu=5.0, **kwargs)
    start = _weights(avg.model)
    for fed in (avg, prox0, prox):
        fed.round()
    for k, v in _weights(avg.model).items():
        np.testing.assert_allclose(_weights(prox0.model)[k], v, atol=1e-12)

    def drift(fed):
        return sum(((v - start[k]) ** 2).sum() for k, v in _weights(fed.model).items())

    assert drift(prox) < 0.8 * drift(avg)


def test_fedprox_local_step_matches_torch_with_the_proximal_term():
    x, y, _ = _data(1, 6)
    model = _model()
    fed = FedProx(model, [(x, y)], nn.CrossEntropyLoss(), proximal_mu=0.7, lr=0.1,
                  local_epochs=2)
    ref = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 3)).double()
    ref.load_state_dict({k: torch.tensor(v) for k, v in _weights(model).items()})
    anchor = [p.detach().clone() for p in ref.parameters()]
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(2):
        loss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
        loss = loss + 0.35 * sum(((p - a) ** 2).sum() for p, a in zip(ref.parameters(), anchor))
        opt.zero_grad()
        loss.backward()
        opt.step()
    fed.round()
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(_weights(fed.model)[k], v.numpy(), atol=1e-12, err_msg=k)


def test_batchnorm_buffers_are_averaged_too():
    _, _, clients = _data()
    model = nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4), nn.Linear(4, 3)).double()
    fed = FedAvg(model, clients, nn.CrossEntropyLoss())
    fed.round()
    assert not np.allclose(fed.model.state_dict()["1.running_mean"].numpy(), 0)
    assert int(fed.model.state_dict()["1.num_batches_tracked"].numpy()) == 1


@pytest.mark.parametrize("kwargs,message", [
    (dict(clients=[]), "FedAvg: clients is empty"),
    (dict(fraction_fit=0.0), "FedAvg: fraction_fit must be in (0, 1], got 0.0"),
    (dict(local_epochs=0), "FedAvg: local_epochs must be a positive integer, got 0"),
    (dict(batch_size=-2), "FedAvg: batch_size must be None or a positive integer, got -2"),
    (dict(lr=0), "FedAvg: lr must be positive, got 0"),
    (dict(clients=[(np.ones((3, 5)), np.ones(2))]),
     "FedAvg client 0: inputs have 3 rows but targets 2"),
])
def test_fedavg_errors_name_the_argument(kwargs, message):
    args = dict(clients=_data()[2]) | kwargs
    with pytest.raises(ValueError) as e:
        FedAvg(_model(), args.pop("clients"), nn.CrossEntropyLoss(), **args)
    assert message in str(e.value)


def test_fedavg_rejects_client_data_that_is_not_a_pair():
    with pytest.raises(TypeError, match="FedAvg client 0: client data must be an "
                                        r"\(inputs, targets\) pair, got ndarray"):
        FedAvg(_model(), [np.ones((3, 5))], nn.CrossEntropyLoss())


def test_fedprox_rejects_a_negative_mu():
    with pytest.raises(ValueError, match="FedProx: proximal_mu must be >= 0, got -1"):
        FedProx(_model(), _data()[2], nn.CrossEntropyLoss(), proximal_mu=-1)

import numpy as np
import pytest

from axonic.data import DataLoader
from axonic.data.datasets import get_dataset, list_datasets, load_digits, register_dataset


def test_digits_as_images():
    ds = load_digits(as_images=True)
    x, y = ds.tensors
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.numpy().min() == 0.0 and x.numpy().max() == 1.0
    assert ds.classes == [str(i) for i in range(10)] and len(ds.feature_names) == 64
    flat = load_digits()
    np.testing.assert_array_equal(flat.tensors[0].numpy(), x.numpy().reshape(1797, 64))
    xb, yb = next(iter(DataLoader(ds, batch_size=32, shuffle=True, seed=0)))
    assert xb.shape == (32, 1, 8, 8)


@pytest.mark.parametrize("name,n,f,k", [("iris", 150, 4, 3), ("wine", 178, 13, 3),
                                         ("breast_cancer", 569, 30, 2)])
def test_classification_sets(name, n, f, k):
    ds = get_dataset(name)
    x, y = ds.tensors
    assert x.shape == (n, f) and x.dtype == np.float32 and y.dtype == np.int64
    assert len(ds.classes) == k and sorted(set(y.tolist())) == list(range(k))
    assert len(ds.feature_names) == f


def test_diabetes_regression_target_shape():
    ds = get_dataset("diabetes")
    x, y = ds.tensors
    assert x.shape == (442, 10) and y.shape == (442, 1) and y.dtype == np.float32
    assert ds.classes is None


def test_registry_names_and_errors(tmp_path, monkeypatch):
    import axonic.data.datasets as datasets

    monkeypatch.setattr(datasets, "REGISTRY", dict(datasets.REGISTRY))
    assert {"digits", "mnist", "fashion_mnist", "cifar10"} <= set(list_datasets())
    with pytest.raises(FileNotFoundError, match="FashionMNIST: train-images"):
        get_dataset("Fashion-MNIST", root=tmp_path)  # case and '-' are ignored
    with pytest.raises(KeyError, match=r"unknown dataset 'imagenet'; known names are \["
                                       r"'breast_cancer', 'cifar10', 'diabetes', 'digits'"):
        get_dataset("imagenet")
    register_dataset("tiny-iris", lambda: get_dataset("iris"))
    assert len(get_dataset("tiny_iris")) == 150
    with pytest.raises(TypeError, match="factory must be callable"):
        register_dataset("x", 3)

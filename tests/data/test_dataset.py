import numpy as np
import pytest

import axonic
from axonic.data import ConcatDataset, Dataset, Subset, TensorDataset


def test_tensor_dataset_items_and_batches():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6) * 10
    ds = TensorDataset(axonic.tensor(x), y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert isinstance(xi, axonic.Tensor) and xi.tolist() == [8.0, 9.0]
    assert yi.shape == () and int(yi) == 40
    assert ds[-1][1].item() == 50
    xb, yb = ds.get_batch([5, 0, 3])
    np.testing.assert_array_equal(xb.numpy(), x[[5, 0, 3]])
    np.testing.assert_array_equal(yb.numpy(), y[[5, 0, 3]])


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"size mismatch.*\[3, 4\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_tensor_dataset_index_errors():
    ds = TensorDataset(np.zeros((3, 2)))
    with pytest.raises(IndexError, match="index 3 is out of range for a dataset of size 3"):
        ds[3]
    with pytest.raises(IndexError, match="index 7 is out of range"):
        ds.get_batch([0, 7])
    with pytest.raises(TypeError, match="index must be an int"):
        ds[0.5]


def test_tensor_dataset_transforms_apply_per_item_and_per_batch():
    ds = TensorDataset(np.ones((4, 2), np.float32), np.arange(4),
                       transform=lambda t: t * 2, target_transform=lambda t: t + 1)
    assert ds[1][0].tolist() == [2.0, 2.0] and int(ds[1][1]) == 2
    xb, yb = ds.get_batch([0, 3])
    assert xb.numpy().tolist() == [[2.0, 2.0]] * 2 and yb.tolist() == [1, 4]


def test_subset_and_its_batches():
    ds = TensorDataset(np.arange(10) * 2)
    s = Subset(ds, [7, 1, 4])
    assert len(s) == 3 and int(s[0][0]) == 14
    assert s.get_batch([2, 0])[0].tolist() == [8, 14]
    with pytest.raises(IndexError, match="indices reach 10 but the dataset has 10"):
        Subset(ds, [10])


def test_subset_of_dataset_without_get_batch_has_none():
    class Plain(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return i

    assert not hasattr(Subset(Plain(), [0, 1]), "get_batch")
    assert Subset(Plain(), [2, 0])[0] == 2


def test_concat_dataset():
    a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 15))
    c = a + b
    assert isinstance(c, ConcatDataset) and len(c) == 8
    assert [int(c[i][0]) for i in range(8)] == [0, 1, 2, 10, 11, 12, 13, 14]
    assert int(c[-1][0]) == 14
    with pytest.raises(IndexError, match="index 8 is out of range"):
        c[8]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_base_dataset_says_what_is_missing():
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]


def test_concat_dataset_batches_in_requested_order():
    a = TensorDataset(np.arange(3, dtype=np.float32)[:, None], np.arange(3))
    b = TensorDataset(np.arange(10, 14, dtype=np.float32)[:, None], np.arange(10, 14))
    c = ConcatDataset([a, b])
    x, y = c.get_batch([5, 0, 3, 1, -1])
    assert y.tolist() == [12, 0, 10, 1, 13] and x.shape == (5, 1)
    np.testing.assert_array_equal(x.numpy()[:, 0], [12, 0, 10, 1, 13])

    class Plain(Dataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.zeros(1), 0

    assert not hasattr(ConcatDataset([a, Plain()]), "get_batch")


def test_tensor_dataset_dtypes():
    ds = TensorDataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    assert ds.tensors[0].dtype == np.float32 and ds.tensors[1].dtype == np.int64
    assert TensorDataset(np.zeros((2, 2), np.float64)).tensors[0].dtype == np.float64
    with pytest.raises(TypeError, match=r"tensor 1 has dtype <U3: unsupported dtype.*"
                                        "LabelEncoder"):
        TensorDataset(np.zeros(2), np.array(["cat", "dog"]))

import numpy as np
import pytest

import axonic
from axonic.data import DataLoader
from axonic.data.datasets import (
    CharCorpus,
    ImageFolder,
    NPZDataset,
    SlidingWindowDataset,
    sliding_windows,
)
from axonic.data.transforms import Normalize, Resize


def test_npz_default_and_given_keys(tmp_path):
    x, y = np.random.rand(5, 3).astype(np.float32), np.arange(5)
    np.savez(tmp_path / "a.npz", x=x, y=y, extra=np.zeros(5))
    ds = NPZDataset(tmp_path / "a.npz")
    assert ds.keys == ("x", "y") and len(ds) == 5
    np.testing.assert_array_equal(ds.tensors[0].numpy(), x)
    only = NPZDataset(tmp_path / "a.npz", keys=("extra", "y"))
    assert only.tensors[0].shape == (5,)
    with pytest.raises(KeyError, match=r"has no array\(s\) \['z'\]; it holds \['x', 'y', "):
        NPZDataset(tmp_path / "a.npz", keys=("x", "z"))
    np.savez(tmp_path / "b.npz", features=x)
    with pytest.raises(KeyError, match=r"has arrays \['features'\]; none of the default"):
        NPZDataset(tmp_path / "b.npz")


def test_npz_never_unpickles(tmp_path):
    np.savez(tmp_path / "o.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.arange(2))
    with pytest.raises(ValueError, match="object array, which can't be loaded without pickle"):
        NPZDataset(tmp_path / "o.npz")


def _image_folder(root):
    from PIL import Image

    pixels = {}
    for cls, base in (("dog", 200), ("cat", 10)):
        (root / cls).mkdir(parents=True)
        for k in range(2):
            a = np.full((3, 4, 3), base + k, np.uint8)
            a[0, 0] = (1, 2, 3)
            Image.fromarray(a).save(root / cls / f"{k}.png")
            pixels[(cls, k)] = a
    (root / "cat" / "notes.txt").write_text("not an image")
    return pixels


def test_image_folder_two_classes(tmp_path):
    pixels = _image_folder(tmp_path)
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 4 and ds.targets == [0, 0, 1, 1]
    img, label = ds[3]
    assert isinstance(img, axonic.Tensor) and img.shape == (3, 3, 4) and label == 1
    np.testing.assert_allclose(img.numpy(), pixels[("dog", 1)].transpose(2, 0, 1) / 255.0,
                               rtol=1e-6)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 3, 3, 4) and yb.tolist() == [0, 0, 1, 1]
    gray = ImageFolder(tmp_path, mode="L", transform=Resize((2, 2)))
    assert gray[0][0].shape == (1, 2, 2)
    norm = ImageFolder(tmp_path, transform=Normalize([0.5] * 3, [0.5] * 3))
    assert norm[0][0].numpy().min() < 0


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        ImageFolder(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no class folders"):
        ImageFolder(tmp_path)
    (tmp_path / "a").mkdir()
    with pytest.raises(FileNotFoundError, match="found no files with extensions"):
        ImageFolder(tmp_path)


def test_char_corpus_windows_and_vocab(tmp_path):
    c = CharCorpus("abcabd", seq_len=3)
    assert c.itos == ["a", "b", "c", "d"] and c.stoi["d"] == 3 and c.vocab_size == 4
    assert len(c) == 3
    x, y = c[1]
    assert c.decode(x) == "bca" and c.decode(y) == "cab" and x.dtype == np.int64
    xb, yb = c.get_batch([2, 0])
    assert [c.decode(r) for r in xb.numpy()] == ["cab", "abc"]
    assert [c.decode(r) for r in yb.numpy()] == ["abd", "bca"]
    assert c.encode("dab").tolist() == [3, 0, 1]
    assert len(list(DataLoader(c, batch_size=2))) == 2
    p = tmp_path / "t.txt"
    p.write_text("hello world")
    from_file = CharCorpus(p, seq_len=4, stride=2)
    assert from_file.text == "hello world" and len(from_file) == 4
    assert CharCorpus(path=p, seq_len=4).text == "hello world"
    strided = [from_file.decode(from_file[i][0]) for i in range(len(from_file))]
    assert strided == ["hell", "llo ", "o wo", "worl"]


def test_char_corpus_errors():
    c = CharCorpus("abc", seq_len=2)
    with pytest.raises(KeyError, match=r"character\(s\) \['z'\] are not in the vocabulary of 3"):
        c.encode("az")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 3\), got range \[0, 5\]"):
        c.decode([0, 5])
    with pytest.raises(ValueError, match="has 2 characters; a window of seq_len=2 needs at "
                                         "least 3"):
        CharCorpus("ab", seq_len=2)
    with pytest.raises(IndexError, match="index 1 is out of range for 1 windows"):
        c[1]


def test_sliding_windows_with_horizon_and_stride():
    series = np.arange(20, dtype=np.float32).reshape(10, 2)
    ds = SlidingWindowDataset(series, window=3, horizon=2, stride=2, target_columns=[1])
    assert len(ds) == 3
    x, y = ds[1]
    np.testing.assert_array_equal(x.numpy(), series[2:5])
    np.testing.assert_array_equal(y.numpy(), series[5:7, [1]])
    xb, yb = ds.get_batch([2, 0])
    np.testing.assert_array_equal(xb.numpy(), np.stack([series[4:7], series[0:3]]))
    assert yb.shape == (2, 2, 1)
    xs, ys = sliding_windows(np.arange(6), window=4, horizon=1)
    assert xs.tolist() == [[0, 1, 2, 3], [1, 2, 3, 4]] and ys.tolist() == [[4], [5]]
    with pytest.raises(ValueError, match="a series of 4 steps is shorter than window \\+ "
                                         "horizon = 5"):
        SlidingWindowDataset(np.arange(4), window=4, horizon=1)
    with pytest.raises(ValueError, match="window must be a positive int, got 0"):
        SlidingWindowDataset(np.arange(4), window=0)

import gzip
import hashlib
import io
import struct
import tarfile

import numpy as np
import pytest

from axonic.data.datasets import CIFAR10, MNIST, FashionMNIST, read_cifar_binary, read_idx


def _idx(array, code=0x08):
    dt = {0x08: ">u1", 0x0D: ">f4"}[code]
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                     *array.shape)
    return header + array.astype(dt).tobytes()


def test_read_idx_3x2x2_plain_and_gzipped(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    (tmp_path / "a").write_bytes(_idx(a))
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx(a)))
    for name in ("a", "a.gz"):
        out = read_idx(tmp_path / name)
        assert out.shape == (3, 2, 2) and out.dtype == np.uint8
        np.testing.assert_array_equal(out, a)
    f = np.array([1.5, -2.25], np.float32)
    (tmp_path / "f").write_bytes(_idx(f, 0x0D))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), f)


def test_read_idx_rejects_malformed_files(tmp_path):
    good = _idx(np.arange(12, dtype=np.uint8).reshape(3, 2, 2))
    cases = {
        "magic": (b"\x01\x02" + good[2:], r"not an IDX file: magic number 0x0102"),
        "type": (b"\x00\x00\x07" + good[3:], r"not an IDX file: magic number 0x000007"),
        "truncated": (good[:-1], r"has 11 bytes of data but its header declares shape "
                                 r"\(3, 2, 2\) of uint8 \(12 bytes\)"),
        "header": (good[:9], r"declares 3 dims but ends inside the header"),
        "short": (b"\x00", r"too short for an IDX header"),
        "badgz": (b"\x1f\x8b" + b"junk", r"looks gzipped but can't be decompressed"),
    }
    for name, (data, msg) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=msg):
            read_idx(tmp_path / name)


def _mnist_files(root, n=3, gz=True):
    root.mkdir(parents=True, exist_ok=True)
    images = (np.arange(n * 4 * 4) % 256).astype(np.uint8).reshape(n, 4, 4)
    labels = np.arange(n, dtype=np.uint8) % 10
    for prefix in ("train", "t10k"):
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            data = _idx(arr)
            if gz:
                (root / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (root / name).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_mnist_from_local_files(tmp_path, layout):
    where = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    images, labels = _mnist_files(where, gz=layout == "flat")
    ds = MNIST(tmp_path, train=False)
    x, y = ds.tensors
    assert x.shape == (3, 1, 4, 4) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x.numpy()[:, 0], images / np.float32(255), rtol=1e-6)
    assert y.tolist() == labels.tolist() and len(ds.classes) == 10


def test_mnist_missing_files_and_mismatch(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"train-images-idx3-ubyte\[\.gz\] not found.*"
                                                "download=True"):
        MNIST(tmp_path)
    _mnist_files(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.zeros(2,
                                                                                      np.uint8))))
    with pytest.raises(ValueError, match=r"MNIST: expected images \(N, H, W\) and labels "
                                         r"\(N,\), got \(3, 4, 4\) and \(2,\)"):
        MNIST(tmp_path)


def test_fashion_mnist_download_with_checksums(tmp_path, monkeypatch):
    src = tmp_path / "server"
    _mnist_files(src)
    served = []

    def opener(url):
        served.append(url)
        return open(src / url.rsplit("/", 1)[-1], "rb")

    sums = {n: hashlib.md5((src / f"{n}.gz").read_bytes()).hexdigest()
            for n in FashionMNIST.resources}
    monkeypatch.setattr(FashionMNIST, "resources", sums)
    ds = FashionMNIST(tmp_path / "cache", download=True, opener=opener)
    assert len(ds) == 3 and ds.classes[0] == "T-shirt/top"
    assert served[0].startswith(FashionMNIST.mirror) and len(served) == 2
    FashionMNIST(tmp_path / "cache", download=True, opener=opener)  # cached: no new fetch
    assert len(served) == 2
    monkeypatch.setattr(FashionMNIST, "resources", {n: "0" * 32 for n in sums})
    with pytest.raises(RuntimeError, match="md5 checksum mismatch.*expected 0{32}"):
        FashionMNIST(tmp_path / "other", download=True, opener=opener)


def _cifar_records(labels, seed=0):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
    return np.concatenate([np.array(labels, np.uint8)[:, None], pixels], axis=1), pixels


def test_read_cifar_binary_two_records(tmp_path):
    recs, pixels = _cifar_records([3, 9])
    recs.tofile(tmp_path / "data_batch_1.bin")
    x, y = read_cifar_binary(tmp_path / "data_batch_1.bin")
    assert x.shape == (2, 3, 32, 32) and y.tolist() == [3, 9]
    np.testing.assert_array_equal(x[1, 0, 0, :4], pixels[1, :4])  # red plane first
    np.testing.assert_array_equal(x[0, 2, 31, 31], pixels[0, 3071])  # blue, last pixel


def test_read_cifar_binary_errors(tmp_path):
    (tmp_path / "short.bin").write_bytes(bytes(3072))
    with pytest.raises(ValueError, match="3072 bytes, not a positive multiple of the 3073-byte"):
        read_cifar_binary(tmp_path / "short.bin")
    recs, _ = _cifar_records([1, 12])
    recs.tofile(tmp_path / "bad.bin")
    with pytest.raises(ValueError, match="record 1 .* has label 12, outside 0..9"):
        read_cifar_binary(tmp_path / "bad.bin")


def _cifar_tree(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        _cifar_records([i, i + 1], seed=i)[0].tofile(folder / f"data_batch_{i}.bin")
    _cifar_records([0], seed=9)[0].tofile(folder / "test_batch.bin")


def test_cifar10_from_local_files(tmp_path):
    _cifar_tree(tmp_path / "cifar-10-batches-bin")
    train, test = CIFAR10(tmp_path), CIFAR10(tmp_path, train=False)
    assert len(train) == 10 and len(test) == 1
    assert train.tensors[1].tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]
    x = train.tensors[0].numpy()
    assert x.shape == (10, 3, 32, 32) and 0 <= x.min() and x.max() <= 1
    with pytest.raises(FileNotFoundError, match="download=True"):
        CIFAR10(tmp_path / "nowhere")


def test_cifar10_download_extracts_verified_archive(tmp_path, monkeypatch):
    _cifar_tree(tmp_path / "src" / "cifar-10-batches-bin")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tmp_path / "src" / "cifar-10-batches-bin", arcname="cifar-10-batches-bin")
    archive = buf.getvalue()
    monkeypatch.setattr(CIFAR10, "md5", hashlib.md5(archive).hexdigest())
    ds = CIFAR10(tmp_path / "cache", train=False, download=True,
                 opener=lambda url: io.BytesIO(archive))
    assert len(ds) == 1 and ds.classes[0] == "airplane"

import hashlib
import io
import tarfile

import pytest

from axonic.data.datasets import cache_dir, download_url, extract_tar, file_digest


def test_download_file_url_with_sha256(tmp_path):
    src = tmp_path / "payload.bin"
    src.write_bytes(b"axonic" * 1000)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    out = download_url(src.as_uri(), tmp_path / "cache", sha256=digest)
    assert out == tmp_path / "cache" / "payload.bin" and out.read_bytes() == src.read_bytes()
    assert file_digest(out) == digest
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["payload.bin"]


def test_checksum_mismatch_leaves_nothing_behind(tmp_path):
    calls = []

    def opener(url):
        calls.append(url)
        return io.BytesIO(b"tampered")

    with pytest.raises(RuntimeError, match=r"sha256 checksum mismatch for https://x/f.bin: "
                                           r"expected a{64}, got [0-9a-f]{64}"):
        download_url("https://x/f.bin", tmp_path, sha256="A" * 64, opener=opener)
    assert list(tmp_path.iterdir()) == [] and calls == ["https://x/f.bin"]


def test_verified_copy_is_reused_and_bad_copy_replaced(tmp_path):
    good = b"good bytes"
    md5 = hashlib.md5(good).hexdigest()
    calls = []

    def opener(url):
        calls.append(url)
        return io.BytesIO(good)

    (tmp_path / "f.bin").write_bytes(b"stale")  # a corrupt earlier copy is fetched again
    download_url("https://x/f.bin", tmp_path, md5=md5, opener=opener)
    download_url("https://x/f.bin", tmp_path, md5=md5, opener=opener)
    assert len(calls) == 1 and (tmp_path / "f.bin").read_bytes() == good


def test_fetch_error_names_url_and_folder(tmp_path):
    def opener(url):
        raise OSError("network is unreachable")

    with pytest.raises(RuntimeError, match=r"could not fetch https://x/y\.gz: network is "
                                           r"unreachable; download it by hand into"):
        download_url("https://x/y.gz", tmp_path, opener=opener)
    assert list(tmp_path.iterdir()) == []


def test_cache_dir_follows_axonic_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AXONIC_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "datasets"
    monkeypatch.delenv("AXONIC_HOME")
    assert cache_dir().parts[-3:] == (".cache", "axonic", "datasets")


def _tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_extract_tar_and_refuses_escaping_paths(tmp_path):
    (tmp_path / "ok.tgz").write_bytes(_tar([("d/a.txt", b"hi")]))
    extract_tar(tmp_path / "ok.tgz", tmp_path / "out")
    assert (tmp_path / "out" / "d" / "a.txt").read_bytes() == b"hi"
    (tmp_path / "bad.tgz").write_bytes(_tar([("../evil.txt", b"x")]))
    with pytest.raises(RuntimeError, match=r"refusing unsafe member '\.\./evil\.txt'"):
        extract_tar(tmp_path / "bad.tgz", tmp_path / "out2")
    assert not (tmp_path / "evil.txt").exists()

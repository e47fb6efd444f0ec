"""MNIST-style IDX loaders: reading, the checked download (against a local HTTP server on
loopback serving files the test makes), the cache, checksum failures, truncated files.

Nothing here touches the internet: the sources are pointed at 127.0.0.1.
"""

import functools
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

from heatbath import datasets


def _idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def _write_set(folder, prefix, images, labels, gz=True):
    names = {}
    for kind, arr, dims in (("images", images, 3), ("labels", labels, 1)):
        name = f"{prefix}-{kind}-idx{dims}-ubyte" + (".gz" if gz else "")
        data = _idx_bytes(arr)
        path = os.path.join(folder, name)
        if gz:
            with gzip.GzipFile(path, "wb", mtime=0) as f:
                f.write(data)
        else:
            with open(path, "wb") as f:
                f.write(data)
        with open(path, "rb") as f:
            names[name] = hashlib.sha256(f.read()).hexdigest()
    return names


@pytest.fixture
def small_set(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 7, dtype=np.uint8)
    served = tmp_path / "served"
    served.mkdir()
    sums = _write_set(str(served), "train", images, labels)
    sums.update(_write_set(str(served), "t10k", images[:3], labels[:3]))
    return images, labels, served, sums


@pytest.fixture
def server(small_set):
    _, _, served, _ = small_set
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _point_at(monkeypatch, url, sums):
    monkeypatch.setitem(datasets._IDX_SOURCES, "mnist", {"url": url, "sha256": dict(sums)})


def test_read_idx_round_trip_and_errors(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = tmp_path / "a-idx3-ubyte"
    raw.write_bytes(_idx_bytes(arr))
    np.testing.assert_array_equal(datasets.read_idx(raw), arr)
    (tmp_path / "short-idx3-ubyte").write_bytes(_idx_bytes(arr)[:-5])
    with pytest.raises(ValueError, match="truncated"):
        datasets.read_idx(tmp_path / "short-idx3-ubyte")
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "text")


def test_download_checks_caches_and_reads(monkeypatch, tmp_path, small_set, server):
    images, labels, _, sums = small_set
    _point_at(monkeypatch, server, sums)
    home = tmp_path / "cache"
    X, y = datasets.load_mnist(subset="train", data_home=home)
    np.testing.assert_array_equal(X, images.reshape(7, -1) / 255.0)
    np.testing.assert_array_equal(y, labels)
    cached = sorted(os.listdir(home / "mnist"))
    assert cached == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    # A second call reads the cache: it works with the server pointed nowhere.
    monkeypatch.setitem(datasets._IDX_SOURCES["mnist"], "url", "http://127.0.0.1:9/")
    X2, _ = datasets.load_mnist(subset="train", data_home=home, binarize=0.5)
    np.testing.assert_array_equal(X2, (images.reshape(7, -1) / 255.0 >= 0.5).astype(float))


def test_checksum_mismatch_is_refused_and_nothing_is_cached(monkeypatch, tmp_path, small_set,
                                                           server):
    _, _, _, sums = small_set
    bad = dict(sums)
    bad["train-images-idx3-ubyte.gz"] = "0" * 64
    _point_at(monkeypatch, server, bad)
    home = tmp_path / "cache"
    with pytest.raises(ValueError, match="SHA-256"):
        datasets.load_mnist(subset="train", data_home=home)
    assert not any(name.startswith("train-images") for name in os.listdir(home / "mnist"))


def test_truncated_download_is_caught(monkeypatch, tmp_path, small_set, server):
    """A file cut short on the server (with a matching checksum) fails on reading."""
    images, labels, served, sums = small_set
    path = served / "train-images-idx3-ubyte.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(_idx_bytes(images)[:-10])
    sums = dict(sums)
    sums[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    _point_at(monkeypatch, server, sums)
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_mnist(subset="train", data_home=tmp_path / "cache")


def test_local_path_without_network(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (5, 2, 2), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    _write_set(str(tmp_path), "t10k", images, labels, gz=False)
    X, y = datasets.load_fashion_mnist(subset="test", path=tmp_path, download=False)
    assert X.shape == (5, 4) and y.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="no train-images"):
        datasets.load_fashion_mnist(subset="train", path=tmp_path)


def test_no_download_and_no_cache_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="download=False"):
        datasets.load_mnist(data_home=tmp_path, download=False)
    with pytest.raises(ValueError, match="subset"):
        datasets.load_mnist(subset="validation", data_home=tmp_path, download=False)

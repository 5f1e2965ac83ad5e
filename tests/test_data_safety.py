"""Bad data, images and processes never crash, hang or leak; the engine's inference-mode numbers are right."""

import functools
import gzip
import hashlib
import http.server
import os
import signal
import struct
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from playground.cli import main
from playground.engine.data import mnist
from playground.engine.data.datasets import Dataset, make_dataset
from playground.engine.data.mnist import download_mnist, load_mnist, read_idx
from playground.engine.data.preprocess import (
    MAX_IMAGE_PIXELS,
    load_image,
    preprocess_digit_steps,
    to_gray,
)
from playground.engine.errors import DataError, FileFormatError, PlaygroundError
from playground.engine.nn.gradcheck import gradient_check
from playground.engine.nn.network import Network
from playground.engine.train import halfbatch, remote
from playground.engine.train.trainer import Trainer, evaluate


# ---------------------------------------------------------------------- the engine's escaped bugs
@pytest.mark.parametrize("input_shape", [[5], [3, 4, 4]])
def test_batchnorm_input_gradient_at_inference_matches_central_differences(input_shape):
    head = [{"type": "Flatten"}] if len(input_shape) == 3 else []
    spec = {"input_shape": input_shape, "layers": [{"type": "BatchNorm"}, {"type": "Tanh"}, *head,
                                                   {"type": "Dense", "units": 3}, {"type": "Softmax"}]}
    net = Network(spec, seed=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    c = input_shape[0]
    bn = net.layers[0]
    # running statistics and a scale far from the defaults, as after training
    bn.state["running_mean"][:] = rng.normal(0.5, 1.0, c)
    bn.state["running_var"][:] = rng.uniform(0.2, 3.0, c)
    bn.params["gamma"][:] = rng.uniform(0.5, 2.0, c)
    x = rng.normal(0.0, 1.5, (6, *input_shape))
    y = rng.integers(0, 3, 6)
    result = gradient_check(net, x, y, training=False, max_entries=None)
    assert result.errors["input"] < 1e-7, result
    assert not result.failures(1e-6), result


def test_batchnorm_input_gradient_at_inference_is_gamma_over_running_std():
    spec = {"input_shape": [2], "layers": [{"type": "BatchNorm", "eps": 0.0}]}
    net = Network(spec, dtype=np.float64)
    bn = net.layers[0]
    bn.state["running_var"][:] = [4.0, 0.25]
    bn.params["gamma"][:] = [3.0, -1.0]
    net.need_input_grads(True)
    bn.forward(np.array([[1.0, 2.0], [3.0, -1.0]]), training=False)
    dx = bn.backward(np.array([[1.0, 1.0], [2.0, -4.0]]))
    # g * gamma / sqrt(running_var): gamma / std = 3/2 and -1/0.5
    np.testing.assert_array_equal(dx, [[1.5, -2.0], [3.0, 8.0]])


def _regression_set(x, y, x_val, y_val):
    return Dataset(x_train=x, y_train=y, x_val=x_val, y_val=y_val, kind="regression", n_classes=None,
                   input_shape=(x.shape[1],), name="by hand")


@pytest.mark.parametrize("middle", [{"type": "Dropout", "rate": 0.5},
                                    {"type": "BatchNorm", "momentum": 0.5, "eps": 0.0}])
def test_validation_and_evaluation_run_in_inference_mode(middle):
    """The validation loss is that of the network as it predicts: dropout off, running statistics."""
    spec = {"input_shape": [3], "loss": "mse",
            "layers": [{"type": "Dense", "units": 4}, middle, {"type": "Dense", "units": 2}]}
    net = Network(spec, seed=4, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    x_val, y_val = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))
    data = _regression_set(x, y, x_val, y_val)
    history = []

    class Keep:
        def on_epoch_end(self, epoch, logs):
            history.append((logs, {k: v.copy() for k, v in net.get_weights().items()}))

    Trainer(net, data, {"optimizer": {"type": "sgd", "lr": 0.01}, "batch_size": 8, "epochs": 2},
            callbacks=[Keep()]).run()

    def by_hand(w, xs):
        h = xs @ w["dense1.W"] + w["dense1.b"]
        if middle["type"] == "BatchNorm":
            h = (h - w["bn1.running_mean"]) / np.sqrt(w["bn1.running_var"]) * w["bn1.gamma"] + w["bn1.beta"]
        return h @ w["dense2.W"] + w["dense2.b"]

    for logs, w in history:
        expected = float(np.mean((by_hand(w, x_val) - y_val) ** 2))
        assert logs["val_loss"] == pytest.approx(expected, rel=1e-12)
    w = history[-1][1]
    res = evaluate(net, x_val, y_val, classification=False)
    assert res["loss"] == pytest.approx(float(np.mean((by_hand(w, x_val) - y_val) ** 2)), rel=1e-12)
    np.testing.assert_allclose(net.predict(x_val), by_hand(w, x_val), rtol=1e-12)


@pytest.mark.parametrize("weight_decay", [0.3, 0.0])
def test_weight_decay_adds_exactly_half_lambda_w_squared_and_lambda_w_on_one_step(weight_decay):
    """L2 weight decay λ: loss += λ/2·ΣW², gradient += λ·W, on weights only (never biases)."""
    spec = {"input_shape": [3], "loss": "mse", "layers": [{"type": "Dense", "units": 2}]}
    net = Network(spec, seed=5, dtype=np.float64)
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(3, 2))
    b0 = np.array([0.5, -0.25])
    net.set_weights({"dense1.W": w0, "dense1.b": b0})
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    logs = []

    class Keep:
        def on_batch_end(self, step, log):
            logs.append(log)

    lr = 0.1
    Trainer(net, _regression_set(x, y, x, y), {"optimizer": {"type": "sgd", "lr": lr}, "batch_size": 4,
                                               "epochs": 1, "weight_decay": weight_decay},
            callbacks=[Keep()]).run()
    out = x @ w0 + b0
    dout = 2 * (out - y) / out.size
    data_loss = float(np.mean((out - y) ** 2))
    assert logs[0]["loss"] == pytest.approx(data_loss + weight_decay / 2 * float(np.sum(w0 ** 2)), rel=1e-12)
    w1 = net.get_weights()
    np.testing.assert_allclose(w1["dense1.W"], w0 - lr * (x.T @ dout + weight_decay * w0), rtol=1e-12)
    np.testing.assert_allclose(w1["dense1.b"], b0 - lr * dout.sum(axis=0), rtol=1e-12)


# ---------------------------------------------------------------------- MNIST files
def write_idx(path: Path, shape: tuple[int, ...], data: bytes, gz: bool = True) -> Path:
    """An IDX file of unsigned bytes whose header says ``shape``, whatever ``data`` holds."""
    raw = (0x0800 | len(shape)).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape) + data
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def tiny_mnist(folder: Path, n_train: int = 20, n_test: int = 10) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("t10k", n_test)):
        pixels = rng.integers(0, 256, n * 784, np.uint8).tobytes()
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", (n, 28, 28), pixels)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", (n,), rng.integers(0, 10, n, np.uint8).tobytes())
    return folder


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("shape", [(2**32 - 1,) * 3, (2**31, 2**31, 4), (60000, 28, 28)])
def test_an_idx_header_announcing_more_than_the_file_holds_is_refused_before_allocating(tmp_path, gz, shape):
    """Sizes whose product overflows int64, or merely far more than the file: refused, nothing allocated."""
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte", shape, bytes(1000), gz=gz)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="header announces .* bytes of data, more than") as err:
            read_idx(path, mnist.IMAGE_MAGIC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert " x ".join(map(str, shape)) in str(err.value) and str(path) in str(err.value)
    assert peak < 1 << 20


def test_an_idx_file_over_the_size_limit_is_refused(tmp_path):
    with pytest.raises(FileFormatError, match="more than the 1,000-byte limit"):
        read_idx(write_idx(tmp_path / "x", (2, 28, 28), bytes(1568)), max_bytes=1000)


def test_a_gzip_that_expands_to_8_gib_is_read_only_as_far_as_its_header_says(tmp_path):
    """A gzip of 8 MB whose header announces ten images but which expands to 8 GiB."""
    head = (mnist.IMAGE_MAGIC.to_bytes(4, "big") + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2)
    zeros = gzip.compress(bytes(1 << 20), compresslevel=9)  # 1 MiB of zeros: 1 KB
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(head + bytes(7840)) + zeros * 8192)  # gzip members follow one another
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="longer than its header says") as err:
            read_idx(path, mnist.IMAGE_MAGIC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "10 x 28 x 28" in str(err.value)
    assert peak < 4 << 20


def test_an_mnist_folder_with_zero_images_is_refused(tmp_path):
    tiny_mnist(tmp_path, n_train=0, n_test=0)
    with pytest.raises(DataError, match="holds no images .*at least one image is expected"):
        load_mnist(tmp_path, "train")
    with pytest.raises(DataError, match="holds no images"):
        make_dataset({"name": "mnist", "data_dir": str(tmp_path)})


@pytest.mark.parametrize("folder", [5, ["a"], {"dir": "x"}, "mn\0ist", b"bytes"])
def test_an_mnist_folder_that_is_not_a_path_is_refused_with_one_line(tmp_path, folder):
    with pytest.raises(DataError, match="must be a folder's path, got"):
        load_mnist(folder, "test")
    with pytest.raises(DataError, match="must be a folder's path, got"):
        download_mnist(folder, base_url="http://127.0.0.1:9/")


@pytest.mark.parametrize("path", [5, None, "digit\0.png"])
def test_an_image_path_that_is_not_a_path_is_refused_with_one_line(path):
    with pytest.raises(DataError, match="the path of an image file was expected|does not exist"):
        load_image(path)


def test_streamed_reading_gives_the_files_bytes(tmp_path):
    tiny_mnist(tmp_path, n_train=7, n_test=3)
    raw = gzip.decompress((tmp_path / "train-images-idx3-ubyte.gz").read_bytes())
    images = read_idx(tmp_path / "train-images-idx3-ubyte.gz", mnist.IMAGE_MAGIC)
    assert images.shape == (7, 28, 28) and not images.flags.writeable
    assert images.tobytes() == raw[16:]
    x, y = load_mnist(tmp_path, "test")
    assert x.shape == (3, 1, 28, 28) and y.shape == (3,)


# ---------------------------------------------------------------------- downloading
class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``/endless/...`` streams zeros forever, ``/huge/...`` announces a terabyte."""

    def do_GET(self):
        if self.path.startswith("/endless/"):
            self.send_response(200)
            self.end_headers()
            try:
                while True:
                    self.wfile.write(bytes(1 << 16))
            except OSError:  # the client hung up, as it should
                return
        if self.path.startswith("/huge/"):
            self.send_response(200)
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            try:
                self.wfile.write(bytes(1 << 16))
            except OSError:
                pass
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``(base_url, served folder)`` of an HTTP server on 127.0.0.1; never the internet."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(served)))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/mnist/", "http://", "http://[::1/", "//host/x",
                                 "http://127.0.0.1:99999/", "http://host\n/", 5, None, "x" * 5000])
def test_a_download_address_that_is_not_a_url_is_refused_with_one_line(tmp_path, url):
    dest = tmp_path / "new" / "mnist"
    with pytest.raises(DataError, match="must be an http:// or https:// URL|bad port") as err:
        download_mnist(dest, base_url=url)
    assert "\n" not in str(err.value) and len(str(err.value)) < 400
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_the_command_line_says_a_bad_address_in_one_line(tmp_path, capsys):
    assert main(["data", "download", "mnist", "--url", "mnist.example.org", "--dest", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("playground: error: the download address must be an http") and "\n" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("where", ["endless", "huge"])
def test_a_download_larger_than_the_cap_is_stopped_and_leaves_nothing(server, tmp_path, where):
    base, _ = server
    dest = tmp_path / "cache" / "mnist"
    name = "t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DataError, match="more than the 1,048,576 bytes"):
        download_mnist(dest, base_url=f"{base}/{where}/", files=(name,), checksums={name: "0" * 64},
                       max_bytes=1 << 20)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served"]  # no .part, no empty folders


def test_the_default_cap_fits_mnist_and_is_finite():
    assert 10 << 20 < mnist.MAX_DOWNLOAD_BYTES <= 256 << 20


def test_a_failed_download_leaves_no_part_file_nor_the_folders_it_made(server, tmp_path):
    base, served = server
    name = "t10k-labels-idx1-ubyte.gz"
    content = gzip.compress(bytes(100))
    (served / name).write_bytes(content)
    sums = {name: hashlib.sha256(content).hexdigest()}
    dest = tmp_path / "a" / "b"
    with pytest.raises(DataError, match="HTTP 404"):
        download_mnist(dest, base_url=base, files=("missing.gz",), checksums={"missing.gz": "0" * 64})
    assert not (tmp_path / "a").exists()
    # a folder that was there before stays, and so do its other files
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    (keep / f"{name}.part").write_bytes(b"left by a download that was killed")
    with pytest.raises(DataError, match="wrong SHA-256"):
        download_mnist(keep, base_url=base, files=(name,), checksums={name: "1" * 64})
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt"]
    assert download_mnist(keep, base_url=base, files=(name,), checksums=sums) == keep
    assert sorted(p.name for p in keep.iterdir()) == ["notes.txt", name]


# ---------------------------------------------------------------------- images
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\n%%EndComments\n"
       b"newpath 4 4 moveto 24 24 lineto stroke showpage\n%%EOF\n")


@pytest.mark.parametrize("name", ["digit.eps", "digit.png", "digit.jpg"])
def test_postscript_is_never_opened_whatever_its_name(tmp_path, monkeypatch, name):
    """An EPS file (even renamed .png) would run Ghostscript on untrusted PostScript."""
    from PIL import EpsImagePlugin

    ran = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: ran.append(a) or (_ for _ in ()).throw(
        AssertionError("Ghostscript ran")))
    (tmp_path / name).write_bytes(EPS)
    with pytest.raises(FileFormatError, match=r"is not an image file of a format read here \(PNG, JPEG, BMP, "
                                              r"GIF, TIFF, WebP expected\)"):
        load_image(tmp_path / name)
    assert ran == []


def _png(width: int, height: int, rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_small_png_of_too_many_pixels_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    """9000 x 9000 black pixels compress to a 80 KB PNG that would take gigabytes as floats."""
    compressor = zlib.compressobj(9)
    row = bytes(9001)  # filter byte + a row of zeros
    rows = b"".join(compressor.compress(row) for _ in range(9000)) + compressor.flush()
    path = tmp_path / "bomb.png"
    path.write_bytes(_png(9000, 9000, rows))
    assert path.stat().st_size < 200_000
    from PIL import ImageFile

    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self) or real_load(self))
    with pytest.raises(FileFormatError, match=rf"bomb.png is 9000 x 9000 pixels, more than the "
                                              rf"{MAX_IMAGE_PIXELS:,} an image of a digit may have; shrink it"):
        load_image(path)
    assert decoded == []


def test_an_image_pillow_deems_a_bomb_is_refused_in_one_line_without_its_warning(tmp_path):
    import warnings

    path = tmp_path / "huge.png"
    path.write_bytes(_png(12000, 9000, zlib.compress(bytes(12001))))  # 108 megapixels announced
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileFormatError, match="huge.png is 12000 x 9000 pixels, more than"):
            load_image(path)
    assert [str(w.message) for w in caught] == []


def test_a_png_of_no_pixels_is_refused(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(_png(0, 5, zlib.compress(b"")))
    with pytest.raises(FileFormatError, match="empty.png"):
        load_image(path)


@pytest.mark.parametrize("ext", ["png", "jpg"])
def test_a_large_photo_is_shrunk_first_and_gives_the_same_digit(tmp_path, ext):
    from PIL import Image

    yy, xx = np.mgrid[:3000, :4000]
    r = np.hypot(yy - 1500, (xx - 2000) * 1.4)
    page = np.where((r > 700) & (r < 1000), 30, 235).astype(np.uint8)  # a dark "0" on light paper
    Image.fromarray(page).save(tmp_path / f"zero.{ext}", quality=95)
    image = load_image(tmp_path / f"zero.{ext}")
    assert image.dtype == np.float32 and image.shape[0] * image.shape[1] <= 1 << 22
    assert 0.0 <= image.min() and image.max() <= 1.0
    # the digit scaled into its 20 x 20 box is the same; centring it may round to the next pixel
    shrunk, whole = preprocess_digit_steps(image), preprocess_digit_steps(to_gray(page))
    assert shrunk.fitted.shape == whole.fitted.shape and np.abs(shrunk.fitted - whole.fitted).max() < 0.05
    assert all(abs(a - b) <= 1 for a, b in zip(shrunk.shift, whole.shift))


# ---------------------------------------------------------------------- the data set's shared memory
def _mapped(pid: int) -> list[str]:
    with open(f"/proc/{pid}/maps") as f:
        return [line.split(maxsplit=5)[5].strip() for line in f if len(line.split(maxsplit=5)) == 6]


@pytest.mark.skipif(not Path("/proc/self/maps").exists() or not hasattr(os, "memfd_create"),
                    reason="needs Linux's /proc and memfd_create")
def test_the_shared_data_set_has_no_name_that_a_kill_could_leave_in_dev_shm():
    """The window and the worker map the block, but nothing of it is in /dev/shm: whatever kills them both
    (a group kill, the out-of-memory killer), the kernel frees it; training on it works."""
    rng = np.random.default_rng(0)
    x = rng.random((2000, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 2000)
    data = Dataset(x_train=x, y_train=y, x_val=x[:200], y_val=y[:200], kind="classification", n_classes=10,
                   input_shape=(1, 28, 28), name="random digits")
    spec = {"input_shape": [1, 28, 28], "loss": "softmax_cross_entropy",
            "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}, {"type": "Softmax"}]}
    net = Network(spec, seed=1)
    start = net.get_weights()
    shared = remote.SharedDataset(data, min_bytes=0)
    tag = shared.descriptor["block"]["tag"]
    assert "name" not in shared.descriptor["block"]
    mine = _mapped(os.getpid())
    assert f"/memfd:{tag} (deleted)" in mine and not [m for m in mine if m.startswith("/dev/shm/")]
    config = {"optimizer": {"type": "sgd", "lr": 0.1}, "batch_size": 50, "epochs": 2, "seed": 3}
    process, conn = remote.spawn_worker()
    try:
        conn.send(remote.make_job(net, shared.descriptor, config, commands=("pause",)))
        while conn.recv()[0] != "began":  # the worker has attached and waits, paused
            pass
        theirs = _mapped(process.pid)
        assert f"/memfd:{tag} (deleted)" in theirs and not [m for m in theirs if m.startswith("/dev/shm/")]
        conn.send(("resume", 1))
        messages = []
        while not messages or messages[-1][0] != "ended":
            messages.append(conn.recv())
    finally:
        conn.close()
        process.join(10)
        shared.release()
    result, weights = messages[-1][1], messages[-1][2]
    assert result["status"] == "finished", result
    here = Network(spec, seed=1)
    here.set_weights(start)
    Trainer(here, data, config).run()
    assert all(np.array_equal(weights[k], v) for k, v in here.get_weights().items())


def test_where_there_is_no_memfd_the_block_is_named_and_unlinked_by_the_last_release(monkeypatch):
    from multiprocessing import shared_memory

    monkeypatch.setattr(remote, "_new_block", remote._NamedBlock)
    data = make_dataset({"name": "spiral", "n_samples": 2000})
    shared = remote.SharedDataset(data, min_bytes=0)
    name = shared.descriptor["block"]["name"]
    copy, block = remote.attach_dataset(shared.descriptor)
    assert np.array_equal(copy.x_train, data.x_train) and not copy.x_train.flags.writeable
    del copy
    block.close()
    shared.release()
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=name)


# ---------------------------------------------------------------------- a stopped helper process
HELPER_MLP = {"input_shape": [1, 8, 8], "loss": "softmax_cross_entropy",
              "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32, "activation": "relu"},
                         {"type": "Dense", "units": 4}, {"type": "Softmax"}]}


def _blobs(n=400):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, n)
    x = rng.normal(0, 1, (n, 1, 8, 8)).astype(np.float32)
    x[np.arange(n), 0, y, y] += 3.0
    return Dataset(x_train=x, y_train=y, x_val=x[:100], y_val=y[:100], kind="classification", n_classes=4,
                   input_shape=(1, 8, 8), name="blobs")


@pytest.mark.skipif(not halfbatch.available(), reason="the helper needs Linux (memfd_create, eventfd)")
def test_a_stopped_helper_process_is_ended_after_a_timeout_and_training_goes_on(monkeypatch):
    """SIGSTOP the helper between two steps: the trainer waits ``wait_timeout``, ends it, warns, and
    computes its parts itself, so the weights are those of a run whose helper worked throughout."""
    monkeypatch.setattr(halfbatch, "worth_it", lambda net, bs, threads: halfbatch.splittable(net))
    monkeypatch.setattr(halfbatch, "WAIT_TIMEOUT_S", 0.5)
    config = {"optimizer": {"type": "adam", "lr": 0.01}, "batch_size": 50, "epochs": 2, "seed": 1}
    reference = Network(HELPER_MLP, seed=3)
    Trainer(reference, _blobs(), config).run()

    net = Network(HELPER_MLP, seed=3)
    box, warnings, stopped = [], [], []

    class Events:
        def on_batch_end(self, step, logs):
            if step == 3:
                pid = box[0]._helper._proc.pid
                os.kill(pid, signal.SIGSTOP)
                stopped.append(pid)

        def on_warning(self, message):
            warnings.append(message)

    trainer = Trainer(net, _blobs(), config, callbacks=[Events()])
    box.append(trainer)
    began = time.monotonic()
    status = trainer.run()
    assert time.monotonic() - began < 30
    assert trainer.status["status"] == "finished", status
    assert warnings == [("training goes on on one core: the helper process did not answer within 0.5 s "
                         "(stopped, or starved of CPU?), so it was ended")]
    with pytest.raises(ProcessLookupError):  # ended, and reaped
        os.kill(stopped[0], 0)
    np.testing.assert_array_equal(net._flat_p, reference._flat_p)


# ---------------------------------------------------------------------- random files: a result or our error
#: the same examples on every run, and nothing written to disk
FUZZ = {"deadline": None, "database": None, "derandomize": True,
        "suppress_health_check": [HealthCheck.function_scoped_fixture]}


def _idx_bytes(magic: int, dims: list[int], data: bytes) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + data


@settings(max_examples=150, **FUZZ)
@given(magic=st.sampled_from([0x803, 0x801, 0x802, 0x800, 0x8FF, 0x0D03, 0xFFFFFFFF]),
       dims=st.lists(st.one_of(st.integers(0, 40), st.integers(0, 2**32 - 1)), min_size=0, max_size=5),
       data=st.binary(max_size=3000), gz=st.booleans(), cut=st.integers(0, 40))
def test_any_idx_file_gives_its_array_or_one_clear_error(tmp_path, magic, dims, data, gz, cut):
    raw = _idx_bytes(magic, dims, data)
    raw = raw[:len(raw) - cut] if cut < len(raw) else raw
    path = tmp_path / "file-idx"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    try:
        a = read_idx(path)
    except PlaygroundError as e:
        assert str(path) in str(e) and "\n" not in str(e)
        return
    ndim = magic & 0xFF  # the header's sizes are the first ndim numbers after the magic
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    assert a.dtype == np.uint8 and a.shape == shape and a.tobytes() == raw[4 + 4 * ndim:]


def _image_files() -> dict[str, bytes]:
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (12, 10, 3), np.uint8)
    files = {}
    for fmt, mode in (("PNG", "RGB"), ("JPEG", "RGB"), ("BMP", "RGB"), ("GIF", "P"), ("TIFF", "RGB"),
                      ("WEBP", "RGB"), ("PNG", "LA"), ("TIFF", "I;16")):
        image = Image.fromarray(pixels)
        image = image.convert(mode) if mode != "I;16" else Image.fromarray(pixels[..., 0].astype(np.uint16) * 257)
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        files[f"{fmt}-{mode}"] = buffer.getvalue()
    return files


IMAGE_FILES = _image_files()


@settings(max_examples=300, **FUZZ)
@given(kind=st.sampled_from(sorted(IMAGE_FILES)), cut=st.integers(0, 400),
       flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6))
def test_any_damaged_image_gives_an_image_or_one_clear_error(tmp_path, kind, cut, flips):
    raw = bytearray(IMAGE_FILES[kind])
    for at, value in flips:
        raw[at % len(raw)] = value
    path = tmp_path / "digit.png"  # the name says PNG whatever it holds, as a renamed file's does
    path.write_bytes(bytes(raw[:max(len(raw) - cut, 0)]))
    try:
        image = load_image(path)
    except PlaygroundError as e:
        assert "\n" not in str(e)
        return
    assert image.ndim == 2 and image.dtype == np.float32 and image.size > 0
    assert 0.0 <= image.min() and image.max() <= 1.0


@pytest.mark.skipif(not halfbatch.available(), reason="the helper needs Linux (memfd_create, eventfd)")
def test_a_helper_ended_for_its_silence_just_as_it_answered_keeps_its_part(monkeypatch):
    """The wait runs out as the helper answers: its part is whole, so it is used, not done a second time
    (an optimizer share applied twice would be wrong)."""
    import select

    from playground.engine.nn.optimizers import get_optimizer

    net = Network(HELPER_MLP, seed=3)
    data = _blobs(64)
    x, y = data.x_train[32:], data.y_train[32:]
    with halfbatch.HalfBatchHelper(net, 64, y[:1], get_optimizer("adam")) as helper:
        pid = helper._proc.pid
        helper.start(x, y, 64, {})
        assert select.select([helper._done], [], [], 30)[0]  # it has answered (the answer is not yet taken)
        os.kill(pid, signal.SIGSTOP)
        monkeypatch.setattr(halfbatch, "_wait", lambda *args, **kwargs: False)  # as if the wait ran out
        result = helper.finish()
        assert helper.failure.startswith("the helper process did not answer") and not helper.alive
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert result is not None
        np.testing.assert_allclose(result[1], net.forward(x, training=True), rtol=1e-5, atol=1e-6)

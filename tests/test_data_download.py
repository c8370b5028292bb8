"""The MIAS downloader (pooch), offline: local archives served by file:// and a 127.0.0.1 HTTP server."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import sys
import tarfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from mammokit.data import download, mias
from mammokit.errors import DownloadError

FILES = {"Info.txt": b"=====\nmdb001 G NORM\nmdb002 G NORM\n", "mdb001.pgm": b"P5\n2 1\n255\n\x00\x01",
         "mdb002.pgm": b"P5\n2 1\n255\n\x02\x03"}
SUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


def make_tar(path: Path, files: dict[str, bytes], prefix: str = "") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_install_from_file_url(tmp_path: Path):
    archive = make_tar(tmp_path / "all-mias.tar.gz", {**FILES, "README": b"extra files are ignored"})
    dest = tmp_path / "data" / "mias"
    out = mias.download(dest=dest, mirrors=[archive.as_uri()], checksums=SUMS, builtin_mirrors=False,
                        progress=False)
    assert out == dest.resolve()
    assert sorted(p.name for p in dest.iterdir()) == sorted(FILES)
    assert leftovers(dest.parent) == []
    assert len(mias.load_folder(dest)) == 2


def test_archive_with_a_top_folder(tmp_path: Path):
    archive = make_tar(tmp_path / "a.tar.gz", FILES, prefix="all-mias/")
    dest = tmp_path / "mias"
    download.install_mias(dest, [archive.as_uri()], checksums=SUMS, builtin_mirrors=False, progress=False)
    assert (dest / "mdb002.pgm").read_bytes() == FILES["mdb002.pgm"]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; counts requests per path; answers 503 to the first ``fail[path]`` requests."""

    hits: Counter
    fail: dict

    def do_GET(self):
        self.hits[self.path] += 1
        if self.hits[self.path] <= self.fail.get(self.path, 0):
            self.send_error(503, "busy")
        else:
            super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path, fail: dict | None = None):
    """``(base URL, hits)`` of an HTTP server on 127.0.0.1 serving ``folder``."""
    hits: Counter = Counter()
    handler = type("H", (_Handler,), {"hits": hits, "fail": fail or {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def test_install_over_http_after_a_dead_mirror(tmp_path: Path):
    make_tar(tmp_path / "all-mias.tar.gz", FILES)
    with serve(tmp_path) as (base, hits):
        dest = tmp_path / "mias"
        download.install_mias(dest, [f"{base}/missing.tar.gz", f"{base}/all-mias.tar.gz"], checksums=SUMS,
                              builtin_mirrors=False, progress=False, retries=0)
        assert (dest / "Info.txt").read_bytes() == FILES["Info.txt"]
        assert hits == {"/missing.tar.gz": 1, "/all-mias.tar.gz": 1}


def test_each_mirror_is_retried_then_the_next_is_tried(tmp_path: Path):
    """A mirror that keeps failing is tried 1 + retries times; a flaky one succeeds on its retry."""
    make_tar(tmp_path / "all-mias.tar.gz", FILES)
    with serve(tmp_path, fail={"/down.tar.gz": 99, "/all-mias.tar.gz": 1}) as (base, hits):
        dest = tmp_path / "mias"
        download.install_mias(dest, [f"{base}/down.tar.gz", f"{base}/all-mias.tar.gz"], checksums=SUMS,
                              builtin_mirrors=False, progress=False, retries=1)
        assert hits == {"/down.tar.gz": 2, "/all-mias.tar.gz": 2}
    assert (dest / "mdb002.pgm").read_bytes() == FILES["mdb002.pgm"] and leftovers(tmp_path) == []


def test_a_wrong_hash_archive_is_rejected_and_the_next_mirror_used(tmp_path: Path):
    altered = make_tar(tmp_path / "altered.tar.gz", {**FILES, "mdb001.pgm": b"P5\n2 1\n255\n\x07\x07"})
    good = make_tar(tmp_path / "good.tar.gz", FILES)
    dest = tmp_path / "data" / "mias"
    download.install_mias(dest, [altered.as_uri(), good.as_uri()], checksums=SUMS, builtin_mirrors=False,
                          progress=False)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == FILES and leftovers(dest.parent) == []


def test_progress_bar_in_a_non_tty(tmp_path: Path, capsys):
    """pooch's tqdm bar writes plain text to a captured (non-tty) stderr and the install goes on."""
    make_tar(tmp_path / "all-mias.tar.gz", FILES)
    assert not sys.stderr.isatty()
    with serve(tmp_path) as (base, _):
        dest = download.install_mias(tmp_path / "mias", [f"{base}/all-mias.tar.gz"], checksums=SUMS,
                                     builtin_mirrors=False, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err and sorted(p.name for p in dest.iterdir()) == sorted(FILES)


def test_python_without_the_tar_data_filter_is_refused_clearly(tmp_path: Path, monkeypatch):
    archive = make_tar(tmp_path / "a.tar.gz", FILES)
    monkeypatch.delattr(tarfile, "data_filter")
    with pytest.raises(DownloadError, match=r"3\.11\.4") as info:
        download.install_mias(tmp_path / "mias", [archive.as_uri()], checksums=SUMS, builtin_mirrors=False)
    assert "by hand" in str(info.value) and str(tmp_path / "mias") in str(info.value)
    assert not (tmp_path / "mias").exists() and leftovers(tmp_path) == []


def test_existing_verified_install_is_kept(tmp_path: Path, capsys):
    archive = make_tar(tmp_path / "a.tar.gz", FILES)
    dest = tmp_path / "mias"
    download.install_mias(dest, [archive.as_uri()], checksums=SUMS, builtin_mirrors=False, progress=False)
    archive.unlink()  # a second call must not need the archive
    download.install_mias(dest, [archive.as_uri()], checksums=SUMS, builtin_mirrors=False, progress=False)
    assert "already installed" in capsys.readouterr().out


def test_checksum_mismatch_installs_nothing(tmp_path: Path):
    archive = make_tar(tmp_path / "a.tar.gz", {**FILES, "mdb002.pgm": b"P5\n2 1\n255\n\x09\x09"})
    dest = tmp_path / "data" / "mias"
    with pytest.raises(DownloadError, match=r"mdb002\.pgm has SHA-256"):
        download.install_mias(dest, [archive.as_uri()], checksums=SUMS, builtin_mirrors=False, progress=False)
    assert not dest.exists() and leftovers(dest.parent) == []


def test_interrupted_download_leaves_nothing(tmp_path: Path, monkeypatch):
    def interrupted(url, output_file, pooch=None):  # pooch's downloader, stopped half-way (Ctrl-C)
        Path(output_file).write_bytes(b"half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "_copy_file", interrupted)
    dest = tmp_path / "data" / "mias"
    with pytest.raises(KeyboardInterrupt):
        download.install_mias(dest, ["file:///nowhere.tar.gz"], checksums=SUMS, builtin_mirrors=False)
    assert not dest.exists() and leftovers(dest.parent) == []


def test_offline_fails_fast_and_says_where_to_put_files(tmp_path: Path):
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        download.install_mias(tmp_path / "mias", [f"http://127.0.0.1:{port}/all-mias.tar.gz",
                                                  "http://mias.invalid/all-mias.tar.gz"],
                              checksums=SUMS, builtin_mirrors=False, timeout=2)
    assert time.monotonic() - start < 10
    message = str(info.value)
    assert "by hand" in message and str(tmp_path / "mias") in message and "Info.txt" in message
    assert f"127.0.0.1:{port}" in message and not (tmp_path / "mias").exists()


def test_shipped_checksum_list_covers_the_full_distribution():
    sums = download.read_checksums()
    assert len(sums) == 324 and {"Info.txt", "Licence.txt", "mdb001.pgm", "mdb322.pgm"} <= set(sums)
    assert all(len(v) == 64 for v in sums.values())


def test_dev_subset_files_match_the_shipped_list(mias_dev):
    """The real files are byte-identical to the distribution the list describes (Info.txt is trimmed)."""
    sums = download.read_checksums()
    for name in ("mdb005.pgm", "mdb216.pgm", "Licence.txt"):
        assert download.sha256(mias_dev / name) == sums[name]

"""The MIAS downloader, offline: local archives served by file:// and a 127.0.0.1 HTTP server."""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
import time
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


def test_install_over_http_after_a_dead_mirror(tmp_path: Path):
    make_tar(tmp_path / "all-mias.tar.gz", FILES)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        dead = f"http://127.0.0.1:{port}/missing.tar.gz"  # 404
        good = f"http://127.0.0.1:{port}/all-mias.tar.gz"
        dest = tmp_path / "mias"
        download.install_mias(dest, [dead, good], checksums=SUMS, builtin_mirrors=False, progress=True)
        assert (dest / "Info.txt").read_bytes() == FILES["Info.txt"]
    finally:
        server.shutdown()


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
    def interrupted(url, target, **kwargs):
        Path(target).write_bytes(b"half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "fetch", interrupted)
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

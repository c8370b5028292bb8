"""Adversarial downloads (class 3 of issue 12): a truncated or damaged archive is a DownloadError
naming the mirror and the cause, the next mirror is tried, and the target stays untouched."""
from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from bad_inputs import check_case, fifo, snapshot

from mammokit.data import download
from mammokit.errors import DataError, DownloadError, OutputError

FILES = {"Info.txt": b"=====\nmdb001 G NORM\n", "mdb001.pgm": b"P5\n2 1\n255\n" + bytes(range(256)) * 40}
SUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


def _tar(path: Path, files: dict[str, bytes] = FILES, mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _cut(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _install(tmp: Path, *archives: Path):
    return download.install_mias(tmp / "data" / "mias", [a.as_uri() for a in archives], checksums=SUMS,
                                 builtin_mirrors=False, progress=False)


def _garbage_after_header(tmp: Path) -> Path:
    good = _tar(tmp / "g.tar.gz").read_bytes()
    return _write(tmp / "garbled.tar.gz", good[:20] + b"\x00garbage" * 50)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


CASES = [
    ("archive-truncated-gzip", lambda t: _install(t, _cut(_tar(t / "a.tar.gz"), 0.5)), DownloadError,
     ("mirror file://", "a.tar.gz", "truncated or damaged", "by hand")),
    ("archive-truncated-plain-tar", lambda t: _install(t, _cut(_tar(t / "b.tar", mode="w"), 0.4)), DownloadError,
     ("mirror file://", "b.tar", "truncated")),
    ("archive-truncated-bzip2", lambda t: _install(t, _cut(_tar(t / "c.tar.bz2", mode="w:bz2"), 0.5)), DownloadError,
     ("c.tar.bz2",)),
    ("archive-garbage-after-header", lambda t: _install(t, _garbage_after_header(t)), DownloadError,
     ("garbled.tar.gz",)),
    ("archive-empty-file", lambda t: _install(t, _write(t / "e.tar.gz", b"")), DownloadError,
     ("e.tar.gz", "not a readable tar")),
    ("archive-html-error-page", lambda t: _install(t, _write(t / "h.tar.gz", b"<html>503</html>")), DownloadError,
     ("h.tar.gz", "not a readable tar")),
    ("archive-both-mirrors-bad", lambda t: _install(t, _cut(_tar(t / "one.tar.gz"), 0.3), _write(t / "two.tar.gz", b"x")),
     DownloadError, ("one.tar.gz", "two.tar.gz")),
    ("archive-file-altered", lambda t: _install(t, _tar(t / "f.tar.gz", {**FILES, "mdb001.pgm": b"P5\n1 1\n255\n\0"})),
     DownloadError, ("f.tar.gz", "mdb001.pgm has SHA-256")),
    ("archive-mirror-missing", lambda t: _install(t, t / "nowhere.tar.gz"), DownloadError, ("nowhere.tar.gz",)),
    ("checksum-list-is-a-fifo", lambda t: download.read_checksums(fifo(t, "sums.txt")), DataError,
     ("sums.txt", "not a regular file")),
    ("checksum-list-missing", lambda t: download.read_checksums(t / "nope.txt"), DataError, ("nope.txt", "not found")),
    ("dest-is-a-file", lambda t: download.install_mias(_write(t / "mias", b"mine"), checksums=SUMS,
                                                       builtin_mirrors=False), OutputError, ("dest", "is a file")),
    ("dest-holds-other-files", lambda t: (t.joinpath("mias").mkdir(), _write(t / "mias" / "notes.txt", b"mine"),
                                          download.install_mias(t / "mias", checksums=SUMS, builtin_mirrors=False)),
     DataError, ("mias exists but is not a complete", "Move or delete")),
]


@pytest.mark.parametrize("action,error,needles", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_download_is_named_and_leaves_nothing(tmp_path: Path, action, error, needles):
    check_case(tmp_path, action, error, needles)
    data = tmp_path / "data"
    assert not (data / "mias").exists() and (not data.exists() or list(data.iterdir()) == [])


def test_a_truncated_mirror_falls_through_to_the_next(tmp_path: Path):
    bad = _cut(_tar(tmp_path / "bad.tar.gz"), 0.5)
    good = _tar(tmp_path / "good.tar.gz")
    dest = _install(tmp_path, bad, good)
    assert (dest / "mdb001.pgm").read_bytes() == FILES["mdb001.pgm"]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["mias"]


def test_a_failed_download_leaves_the_users_folder_as_it_was(tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notes.txt").write_text("my notes")
    before = snapshot(tmp_path / "data")
    with pytest.raises(DownloadError):
        _install(tmp_path, _cut(_tar(tmp_path / "a.tar.gz"), 0.5))
    assert snapshot(tmp_path / "data") == before

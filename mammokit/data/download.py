"""Download, verify and install MIAS: all or nothing.

The archive differs between mirrors, the files do not, so every extracted file is checked
against the SHA-256 list shipped in ``mammokit/resources/mias-sha256.txt``. Steps:

1. fetch the archive from the first mirror that answers (short connect timeout, tqdm bar)
   into a temporary file beside ``dest``;
2. extract it safely into a temporary folder beside ``dest`` — absolute paths, ``..``,
   links and device files are refused (an archive must not write outside its folder);
3. verify every listed file; 4. rename the folder to ``dest`` in one step.

Any failure removes the temporaries, so an interrupted download never leaves half a dataset.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tarfile
import tempfile
import threading
import urllib.error
import urllib.request
import zlib
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Sequence

from mammokit import paths
from mammokit.errors import DataError, DownloadError
from mammokit.files import check_output_dir

PEIPA = "http://peipa.essex.ac.uk/pix/mias/all-mias.tar.gz"  # the archive public code cites
MIRRORS = (
    PEIPA,
    "https://peipa.essex.ac.uk/pix/mias/all-mias.tar.gz",
)
BY_HAND = ("To install by hand: download all-mias.tar.gz (e.g. {mirror}) on a machine with internet, then either "
           "run `mammokit data download mias --mirror file:///full/path/all-mias.tar.gz`, or extract it so "
           "that {dest}/Info.txt and {dest}/mdb001.pgm ... mdb322.pgm exist (see data/README.md).")


def read_checksums(path: Path | str | None = None) -> dict[str, str]:
    """``{file name: sha256 hex}`` from a ``sha256sum``-style list (default: the shipped MIAS list)."""
    if path is None:
        text = resources.files("mammokit").joinpath("resources", "mias-sha256.txt").read_text()
        where = "mammokit/resources/mias-sha256.txt"
    else:
        if not Path(path).is_file():
            raise DataError(f"{path}: checksum list not found (or not a regular file); give a sha256sum-style file")
        text, where = Path(path).read_text(errors="replace"), str(path)
    sums: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise DataError(f"{where} line {lineno}: expected '<64 hex digits>  <file name>', got {line!r}")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open_url(url: str, timeout: float):
    """urlopen with a hard deadline, DNS included (socket timeouts do not cover name lookup)."""
    box: dict = {}

    def target() -> None:
        try:
            box["response"] = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (http/file only)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout + 1)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["response"]


def fetch(url: str, target: Path, timeout: float = 5.0, progress: bool = True) -> Path:
    """Stream ``url`` (http, https or file) into ``target`` with a progress bar."""
    from tqdm.auto import tqdm

    if not url.startswith(("http://", "https://", "file://")):
        raise DownloadError(f"mirror {url!r}: only http://, https:// and file:// URLs are supported")
    with _open_url(url, timeout) as response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))
    return target


def safe_extract(archive: Path, folder: Path) -> None:
    """Extract a tar (any compression) into ``folder``, refusing members that could escape it."""
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{archive}: not a readable tar archive ({exc}). The download is damaged: "
                        "try again or another mirror (--mirror).") from None
    with tar:
        try:
            members = tar.getmembers()  # reads the whole archive: a truncated one fails here
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{archive}: the archive is truncated or damaged ({type(exc).__name__}: {exc}); "
                            "download it again or from another mirror (--mirror).") from None
        for m in members:
            name = PurePosixPath(m.name)
            if name.is_absolute() or ".." in name.parts or m.name.startswith(("/", "\\")) or ":" in m.name:
                raise DataError(f"{archive}: member {m.name!r} would be written outside the target folder; "
                                "refusing this archive. Download it from another mirror.")
            if not (m.isfile() or m.isdir()):
                raise DataError(f"{archive}: member {m.name!r} is a link or special file; refusing this "
                                "archive (MIAS holds plain files only). Download it from another mirror.")
        try:
            tar.extractall(folder, members=members, filter="data")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{archive}: extraction failed ({exc}); the archive is truncated or damaged. "
                            "Download it again.") from None


def _locate(folder: Path, name: str) -> Path | None:
    """``name`` at the top of ``folder`` or one level down (some archives wrap files in a folder)."""
    direct = folder / name
    if direct.is_file():
        return direct
    found = [p for p in folder.glob(f"*/{name}") if p.is_file()]
    return found[0] if len(found) == 1 else None


def verify_folder(folder: Path, checksums: dict[str, str], origin: str) -> None:
    """Every file of ``checksums`` is in ``folder`` with the right SHA-256, else :class:`DataError`."""
    missing = [name for name in checksums if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{origin}: {len(missing)} file(s) missing, e.g. {', '.join(missing[:3])}. The archive "
                        "is incomplete: try another mirror (--mirror) or install by hand (data/README.md).")
    for name, expected in checksums.items():
        got = sha256(folder / name)
        if got != expected:
            raise DataError(f"{origin}: {name} has SHA-256 {got[:16]}…, expected {expected[:16]}… "
                            "(mammokit/resources/mias-sha256.txt). The file is damaged or altered: "
                            "download again, from another mirror (--mirror), or replace it by hand.")


def install_archive(archive: Path, dest: Path, checksums: dict[str, str]) -> Path:
    """Extract ``archive`` beside ``dest``, verify every file, then rename into ``dest`` (all or nothing)."""
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.extract-"))
    try:
        safe_extract(archive, work / "raw")
        staging = work / "install"
        staging.mkdir()
        for name in checksums:
            found = _locate(work / "raw", name)
            if found is not None:
                os.replace(found, staging / name)
        verify_folder(staging, checksums, origin=str(archive))
        os.rename(staging, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def install_mias(dest: Path | str | None = None, mirrors: Sequence[str] | None = None, *,
                 checksums: Path | str | dict[str, str] | None = None, timeout: float = 5.0,
                 progress: bool = True, builtin_mirrors: bool = True) -> Path:
    """Download MIAS from the first working mirror, verify it and install it into ``dest``.

    ``mirrors`` are tried before the built-in :data:`MIRRORS` (a ``file://`` URL installs a
    copy you downloaded by hand; ``builtin_mirrors=False`` tries only yours). ``checksums`` is a list file or dict (tests pass their own).
    An existing, verified ``dest`` is left as it is. Offline it fails within ~``timeout`` s
    per mirror with :class:`DownloadError` saying how to install by hand.
    """
    dest = check_output_dir(Path(dest or paths.data_dir() / "mias").expanduser().resolve(), "dest")
    sums = checksums if isinstance(checksums, dict) else read_checksums(checksums)
    if dest.exists():
        if not any(dest.iterdir()):
            dest.rmdir()
        else:
            try:
                verify_folder(dest, sums, origin=str(dest))
            except DataError as exc:
                raise DataError(f"{dest} exists but is not a complete, verified MIAS copy: {exc} "
                                f"Move or delete {dest}, then run `mammokit data download mias` again.") from None
            print(f"MIAS already installed and verified in {dest}")
            return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    urls = list(dict.fromkeys([*(mirrors or []), *(MIRRORS if builtin_mirrors else ())]))
    for url in urls:
        if not url.startswith(("http://", "https://", "file://")):
            raise DownloadError(f"mirror {url!r}: only http://, https:// and file:// URLs work; for an archive "
                                "on disk give --mirror file:///full/path/all-mias.tar.gz")
    failures: list[str] = []
    for url in urls:
        fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.download-", suffix=".tar.gz")
        os.close(fd)
        archive = Path(name)
        try:
            try:
                fetch(url, archive, timeout=timeout, progress=progress)
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue
            try:
                return install_archive(archive, dest, sums)
            except DataError as exc:  # a damaged or altered archive: try the next mirror
                failures.append(f"mirror {url}: {exc}")
        finally:
            archive.unlink(missing_ok=True)
    raise DownloadError("could not download MIAS from any mirror:\n  " + "\n  ".join(failures) + "\n"
                        + BY_HAND.format(mirror=PEIPA, dest=dest))

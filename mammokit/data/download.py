"""Download, verify and install MIAS: all or nothing.

`pooch <https://www.fatiando.org/pooch>`_ fetches the archive (a short connect timeout, a
retry, a tqdm bar). The archive differs between mirrors, the files do not, so the archive has
no known hash: every extracted file is checked against the SHA-256 list shipped in
``mammokit/resources/mias-sha256.txt`` instead. Steps, in a temporary folder beside ``dest``:

1. fetch the archive from the first mirror that works (a ``file://`` URL is copied);
2. extract it with :mod:`tarfile`'s ``"data"`` filter, made stricter: absolute names and links
   are refused too (an archive must not write outside its folder; MIAS is plain files);
3. verify every listed file; 4. rename the verified folder to ``dest`` in one step.

Any failure removes the temporary folder, so an interrupted download never leaves half a dataset.
"""
from __future__ import annotations

import os
import platform
import shutil
import socket
import tarfile
import tempfile
import threading
import urllib.request
import zlib
from importlib import resources
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import pooch

from mammokit import paths
from mammokit.errors import DataError, DownloadError
from mammokit.files import check_output_dir

PEIPA = "http://peipa.essex.ac.uk/pix/mias/all-mias.tar.gz"  # the archive public code cites
MIRRORS = (
    PEIPA,
    "https://peipa.essex.ac.uk/pix/mias/all-mias.tar.gz",
)
SCHEMES = ("http://", "https://", "file://")
ARCHIVE = "all-mias.tar.gz"  # the name the archive gets in the temporary folder, whatever the mirror
READ_TIMEOUT = 60.0  # seconds without a byte before a started download counts as failed
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


def sha256(path: Path | str) -> str:
    return pooch.file_hash(str(path), alg="sha256")


def _copy_file(url: str, output_file: str, pooch_: object = None) -> None:
    """A pooch downloader for ``file://`` URLs (pooch speaks http, https, ftp and doi only)."""
    shutil.copyfile(urllib.request.url2pathname(urlsplit(url).path), output_file)


def _resolve(url: str, timeout: float) -> None:
    """Look the host up within ``timeout`` s: requests' timeouts do not cover DNS, so offline fails fast.

    Skipped behind a proxy (the proxy resolves names, and its connect timeout applies)."""
    host = urlsplit(url).hostname
    if not host or urllib.request.getproxies().get(urlsplit(url).scheme):
        return
    box: dict[str, OSError] = {}
    done = threading.Event()

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None)
        except OSError as exc:
            box["error"] = exc
        done.set()

    threading.Thread(target=lookup, daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"the name {host} was not resolved within {timeout:g} s (offline?)")
    if "error" in box:
        raise box["error"]


def fetch(url: str, folder: Path, *, timeout: float = 5.0, progress: bool = True, retries: int = 1) -> Path:
    """Download ``url`` (http, https or file) into ``folder``/:data:`ARCHIVE` with pooch.

    A failed http(s) download is tried ``retries`` more times; any failure is an :class:`OSError`
    (requests' errors are ``OSError`` too). No known hash: the installer checks the files inside."""
    if url.startswith("file://"):
        downloader = _copy_file
    else:
        _resolve(url, timeout)
        downloader = pooch.HTTPDownloader(progressbar=progress, chunk_size=1 << 16,
                                          timeout=(timeout, READ_TIMEOUT))
    store = pooch.create(path=folder, base_url="", registry={ARCHIVE: None}, urls={ARCHIVE: url},
                         retry_if_failed=retries)
    return Path(store.fetch(ARCHIVE, downloader=downloader))


def _plain_member(archive: Path):
    """tarfile's ``"data"`` filter, stricter: an absolute name is refused (not made relative), so is a link."""
    def check(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
        if member.name.startswith(("/", "\\")):
            why = "would be written outside the target folder"
        elif not (member.isfile() or member.isdir()):
            why = "is a link or special file (MIAS holds plain files only)"
        else:
            try:
                return tarfile.data_filter(member, dest)
            except tarfile.FilterError as exc:
                why = f"would be written outside the target folder ({exc})"
        raise DataError(f"{archive}: member {member.name!r} {why}; refusing this archive. "
                        "Download it from another mirror.")
    return check


def safe_extract(archive: Path, folder: Path) -> None:
    """Extract a tar (any compression) into ``folder``, refusing members that could escape it."""
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{archive}: not a readable tar archive ({exc}). The download is damaged: "
                        "try again or another mirror (--mirror).") from None
    with tar:
        try:
            tar.extractall(folder, filter=_plain_member(archive))
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{archive}: the archive is truncated or damaged ({type(exc).__name__}: {exc}); "
                            "download it again or from another mirror (--mirror).") from None


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


def _install(archive: Path, work: Path, dest: Path, checksums: dict[str, str]) -> Path:
    """Extract ``archive`` into ``work`` (beside ``dest``), verify every file, rename into ``dest``."""
    safe_extract(archive, work / "raw")
    staging = work / "install"
    staging.mkdir()
    for name in checksums:
        found = _locate(work / "raw", name)
        if found is not None:
            os.replace(found, staging / name)
    verify_folder(staging, checksums, origin=str(archive))
    os.rename(staging, dest)
    return dest


def install_mias(dest: Path | str | None = None, mirrors: Sequence[str] | None = None, *,
                 checksums: Path | str | dict[str, str] | None = None, timeout: float = 5.0,
                 progress: bool = True, builtin_mirrors: bool = True, retries: int = 1) -> Path:
    """Download MIAS from the first working mirror, verify it and install it into ``dest``.

    ``mirrors`` are tried before the built-in :data:`MIRRORS` (a ``file://`` URL installs a
    copy you downloaded by hand; ``builtin_mirrors=False`` tries only yours), each ``retries``
    more times before the next. ``checksums`` is a list file or dict (tests pass their own).
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
    if not hasattr(tarfile, "data_filter"):
        raise DownloadError(f"Python {platform.python_version()} cannot extract archives safely (tarfile's 'data' "
                            "filter needs Python 3.10.12, 3.11.4 or newer). Upgrade Python, or download "
                            f"all-mias.tar.gz ({PEIPA}) and extract it by hand so that {dest}/Info.txt and "
                            f"{dest}/mdb001.pgm ... mdb322.pgm exist; `mammokit data download mias` then checks them.")
    urls = list(dict.fromkeys([*(mirrors or []), *(MIRRORS if builtin_mirrors else ())]))
    for url in urls:
        if not url.startswith(SCHEMES):
            raise DownloadError(f"mirror {url!r}: only http://, https:// and file:// URLs work; for an archive "
                                "on disk give --mirror file:///full/path/all-mias.tar.gz")
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for url in urls:
        work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.download-"))
        try:
            try:
                archive = fetch(url, work, timeout=timeout, progress=progress, retries=retries)
            except OSError as exc:  # refused, timed out, 404, no such file (requests' errors included)
                failures.append(f"{url}: {exc}")
                continue
            try:
                return _install(archive, work, dest, sums)
            except DataError as exc:  # a damaged or altered archive: try the next mirror
                failures.append(f"mirror {url}: {exc}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    raise DownloadError("could not download MIAS from any mirror:\n  " + "\n  ".join(failures) + "\n"
                        + BY_HAND.format(mirror=PEIPA, dest=dest))

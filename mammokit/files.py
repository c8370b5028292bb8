"""Writing files safely: every output is atomic, and every output path is checked before work starts.

Two promises the kit keeps for its users:

- **Nothing half-written.** Every file the kit writes goes through :func:`atomic_path` (a temp
  file beside the target, renamed over it only when complete), every folder through
  :func:`atomic_folder`. A crash, a full disk or Ctrl-C leaves the old file or nothing — never
  half a cache, table or model, and no temp debris.
- **A full disk says so.** A write that fails for lack of room or rights (``ENOSPC``,
  ``EDQUOT``, ``EROFS``, ``EACCES``) raises a :class:`WriteError` naming the file, the free
  space and the fix, instead of a bare ``OSError`` — and still leaves nothing half-written.
- **Bad outputs fail first.** :func:`check_output_file` and :func:`check_output_dir` reject a
  file given as a folder, a folder given as a file, an unwritable place or an unknown suffix
  with an :class:`OutputError` naming the parameter, before minutes of work are spent.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from mammokit.errors import OutputError, WriteError


def current_umask() -> int:
    """The process's file-creation mask, read when a file is written (not at import: the user may
    set it later, and importing the kit must not touch process state).

    Linux reports it in ``/proc/self/status``, which reads it without changing it; elsewhere it is
    read the only portable way, ``os.umask(0)`` and at once back, inside this function.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


_NO_ROOM = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "your disk quota is used up",
            errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied"}


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"  # pragma: no cover


def free_space(path: Path | str) -> str:
    """Free space on the disk that holds ``path`` (or its nearest existing folder), in words."""
    try:
        return _size(shutil.disk_usage(_existing_ancestor(Path(path).absolute())).free) + " free"
    except OSError:
        return "free space unknown"


def write_error(exc: BaseException, target: Path | str) -> WriteError | None:
    """The :class:`WriteError` for an ``OSError`` that means no room or no rights, else None."""
    if isinstance(exc, WriteError) or not isinstance(exc, OSError) or exc.errno not in _NO_ROOM:
        return None
    target = Path(target)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = ("Free some disk space (the kit's caches, data/cache or $MAMMOKIT_CACHE, are safe to delete) "
               "or write somewhere else, then try again")
    elif exc.errno == errno.EROFS:
        fix = "Write somewhere else (a folder on a writable disk)"
    else:
        fix = "Check the permissions of that file and its folder, or write somewhere else"
    return WriteError(f"{target}: cannot be written: {_NO_ROOM[exc.errno]} ({exc.strerror or exc}; "
                      f"{free_space(target.parent)} there). {fix}. Nothing was half-written.",
                      exc.errno, str(target))


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temp path beside ``path``; write it inside the block, it replaces ``path`` at the end.

    On any exception the temp file is removed and ``path`` is left as it was; a full disk, a
    quota, a read-only disk or a permission error becomes a :class:`WriteError` naming ``path``.

    >>> import tempfile; target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as tmp: _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + "".join(path.suffixes))
        os.close(fd)
    except OSError as exc:
        if (error := write_error(exc, path)) is None:
            raise
        raise error from exc
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())  # temp files are private (0600); outputs get the usual modes
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if (error := write_error(exc, path)) is None:
            raise
        raise error from exc


def write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextmanager
def atomic_folder(folder: Path | str) -> Iterator[Path]:
    """Yield an empty temp folder beside ``folder``; it becomes ``folder`` when the block ends.

    If ``folder`` appeared meanwhile (another process wrote the same cache key), the temp copy
    is dropped and the existing one kept. On any exception the temp folder is removed (a full
    disk or missing rights: a :class:`WriteError` naming ``folder``).
    """
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.tmp-"))
    except OSError as exc:
        if (error := write_error(exc, folder)) is None:
            raise
        raise error from exc
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it private
        try:
            os.rename(tmp, folder)
        except OSError:
            if not folder.exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # someone else finished first: keep theirs
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        failed = Path(os.fsdecode(exc.filename)) if isinstance(exc, OSError) and exc.filename else None
        where = folder / failed.relative_to(tmp) if failed and failed.is_relative_to(tmp) else folder
        if isinstance(exc, WriteError):  # a file inside, written atomically itself: name its final place
            raise WriteError(str(exc).replace(str(tmp), str(folder)), exc.errno, str(where)) from exc
        if (error := write_error(exc, where)) is None:
            raise
        raise error from exc


def _existing_ancestor(path: Path) -> Path:
    for folder in [path, *path.parents]:
        if folder.exists():
            return folder
    return Path("/")


def check_output_dir(path: Path | str, param: str) -> Path:
    """``path`` as an absolute folder the kit can create or write into, else :class:`OutputError`.

    ``param`` names the option or parameter in the message (``--out``, ``RUN_DIR``, ``dest``).
    Creates nothing.
    """
    path = Path(path).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise OutputError(f"{param} {path}: is a file, not a folder. Give a folder path (it is created if needed).")
    base = _existing_ancestor(path)
    if not base.is_dir():
        raise OutputError(f"{param} {path}: {base} is a file, so no folder can be made below it. "
                          "Give another folder path.")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"{param} {path}: {base} is not writable. Give a folder you may write to, "
                          "or fix its permissions.")
    return path


def check_output_file(path: Path | str, param: str, suffixes: Sequence[str] | None = None) -> Path:
    """``path`` as an absolute file path the kit can write, else :class:`OutputError` naming ``param``.

    ``suffixes`` (e.g. ``(".png", ".pdf")``) limits the file types. Creates nothing.
    """
    path = Path(path).expanduser().absolute()
    if path.is_dir():
        raise OutputError(f"{param} {path}: is a folder; give a file name such as {path / 'out'}"
                          f"{suffixes[0] if suffixes else ''}.")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise OutputError(f"{param} {path}: unknown file type {path.suffix or '(no suffix)'!r}; "
                          f"use one of {', '.join(suffixes)}.")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{param} {path}: exists and is not writable. Choose another name or fix its permissions.")
    check_output_dir(path.parent, param)
    return path


def describe_os_error(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, and what to do."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    advice = {errno.ENOSPC: "free some disk space and try again",
              errno.EDQUOT: "free some disk space and try again",
              errno.EACCES: "check the permissions of that file or folder",
              errno.EPERM: "check the permissions of that file or folder",
              errno.EROFS: "the file system is read-only: write somewhere else",
              errno.ENOTDIR: "a file stands where a folder is expected: choose another path",
              errno.EISDIR: "a folder stands where a file is expected: give a file name"}
    tip = advice.get(exc.errno or -1, "check the path and try again")
    return f"{exc.strerror or exc}{where}: {tip}."

"""Shared helpers of the adversarial suites (tests/test_bad_inputs_*.py).

A case is ``(id, action(tmp_path), error class, needles)``: the action must raise exactly that
:class:`MammokitError` subclass, and the message must contain every needle — the culprit
(file, line, parameter) and the fix. :func:`check_case` asserts both.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from mammokit.data import write_pgm
from mammokit.errors import MammokitError

INFO_HEAD = "MIAS header text\n=====\n"  # rows start on line 3


def mias(tmp: Path, rows: str, images=("mdb001",), size: int = 16) -> Path:
    """A MIAS-layout folder with ``rows`` as Info.txt data and blank ``size``-px films."""
    (tmp / "Info.txt").write_text(INFO_HEAD + rows)
    for image_id in images:
        write_pgm(tmp / f"{image_id}.pgm", np.full((size, size), 100, np.uint8))
    return tmp


def file(tmp: Path, name: str, data: bytes) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / name).write_bytes(data)
    return tmp / name


def fifo(tmp: Path, name: str) -> Path:
    path = tmp / name
    os.mkfifo(path)
    return path


def within(seconds: float, action: Callable[[], Any]) -> Any:
    """Run ``action`` in a thread; fail (instead of hanging the suite) if it takes longer."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = action()
        except BaseException as exc:  # handed back below
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds} s: a hang")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def check_case(tmp: Path, action: Callable[[Path], Any], error: type[MammokitError], needles: tuple[str, ...]) -> str:
    """``action`` raises ``error`` (not a parent, not another type) whose message holds every needle."""
    with pytest.raises(MammokitError) as info:
        within(60, lambda: action(tmp))
    assert isinstance(info.value, error), f"expected {error.__name__}, got {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{needle!r} missing from: {message}"
    return message


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (relative path -> bytes): compare before and after a call."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

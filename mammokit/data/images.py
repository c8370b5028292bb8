"""Reading and writing mammogram image files: PGM (MIAS), PNG and DICOM, as 2-D numpy arrays.

Everything comes back as ``uint8`` (maxval ≤ 255) or ``uint16`` (16-bit PGM/PNG, 12/16-bit
DICOM): bit depth is kept until preprocessing decides what to do with it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from mammokit.errors import DataError
from mammokit.files import write_bytes

if TYPE_CHECKING:
    import pandas as pd

_PGM_MAGIC = (b"P5", b"P2")
_WHITESPACE = b" \t\r\n\v\f"


class _NeedMore(Exception):
    """The bytes read so far end inside the PGM header: read more of the file."""


def _pgm_header(data: bytes, path: Path, complete: bool = True) -> tuple[bytes, int, int, int, int]:
    """Parse a PGM header: (magic, width, height, maxval, offset of the pixel data).

    Comments (``# ...`` to the end of the line) may be any length. With ``complete=False``
    ``data`` is only the start of the file, and running out of it raises :class:`_NeedMore`."""
    magic = data[:2]
    if magic not in _PGM_MAGIC:
        raise DataError(
            f"{path}: not a PGM image (starts with {magic!r}, expected b'P5' or b'P2'). "
            "Check the file is a MIAS .pgm image and not an HTML error page or another format.")
    fields: list[int] = []
    pos = 2
    while len(fields) < 3:
        while pos < len(data) and data[pos] in _WHITESPACE:
            pos += 1
        if pos < len(data) and data[pos:pos + 1] == b"#":  # comment up to end of line (CR, LF or CRLF)
            ends = [i for i in (data.find(b"\n", pos), data.find(b"\r", pos)) if i >= 0]
            if not ends and not complete:
                raise _NeedMore
            pos = min(ends) + 1 if ends else len(data)
            continue
        start = pos
        while pos < len(data) and data[pos] not in _WHITESPACE and data[pos:pos + 1] != b"#":
            pos += 1
        if pos >= len(data) and not complete:
            raise _NeedMore  # the token (or the whitespace after maxval) may go on
        token = data[start:pos]
        if not token:
            raise DataError(f"{path}: PGM header ends early (got {fields}, expected width, height, "
                            "maxval). The file is truncated: download it again.")
        if not token.isdigit():
            raise DataError(f"{path}: PGM header field {token[:20]!r} is not a number "
                            "(expected 'P5 width height maxval'). The file is damaged: download it again.")
        fields.append(int(token))
    width, height, maxval = fields
    if width <= 0 or height <= 0 or not 0 < maxval < 65536:
        raise DataError(f"{path}: PGM header has width={width}, height={height}, maxval={maxval}; "
                        "expected positive sizes and 1 <= maxval <= 65535. The file is damaged.")
    return magic, width, height, maxval, pos + 1  # exactly one whitespace byte after maxval


def read_pgm(path: Path | str) -> NDArray[np.uint8] | NDArray[np.uint16]:
    """Read a binary (P5) or ASCII (P2) PGM, the MIAS format.

    16-bit P5 samples are big-endian (the PGM standard). A file with more or fewer pixel
    bytes than its header announces raises :class:`DataError` instead of being reshaped.

    Parameters
    ----------
    path : str or pathlib.Path of a regular file

    Returns
    -------
    numpy.ndarray of shape (height, width), uint8 if maxval ≤ 255, else uint16 (0..maxval)
    """
    path = Path(path)
    data = _read_bytes(path)
    magic, width, height, maxval, offset = _pgm_header(data, path)
    dtype = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")
    if magic == b"P2":
        try:
            values = np.array(data[offset - 1:].split(), dtype=np.int64)
        except ValueError:
            raise DataError(f"{path}: ASCII PGM holds a non-number pixel value; the file is damaged.") from None
        if values.size != width * height:
            raise DataError(f"{path}: ASCII PGM has {values.size} pixel values, header says "
                            f"{width}x{height}={width * height}. Download or export the file again.")
        if values.size and (values.min() < 0 or values.max() > maxval):
            raise DataError(f"{path}: ASCII PGM holds pixel value {values.max() if values.max() > maxval else values.min()} "
                            f"outside 0..{maxval} (the header's maxval); the file is damaged. Export it again.")
        return values.reshape(height, width).astype(np.uint8 if maxval < 256 else np.uint16)
    expected = width * height * dtype.itemsize
    got = len(data) - offset
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says (mis-sized)"
        raise DataError(f"{path}: PGM pixel data is {got} bytes, header says {width}x{height} at "
                        f"maxval {maxval} = {expected} bytes: the file is {what}. Download it again "
                        "(`mammokit data download mias`) or re-export it.")
    image = np.frombuffer(data, dtype=dtype, count=width * height, offset=offset).reshape(height, width)
    return image.astype(np.uint8 if maxval < 256 else np.uint16)


def pgm_shape(path: Path | str) -> tuple[int, int]:
    """(height, width) from a PGM header alone (fast: reads the first kilobyte, more only when its
    comments are longer)."""
    path = Path(path)
    with _open(path) as fh:
        head = fh.read(1024)
        while True:
            try:
                _, width, height, _, _ = _pgm_header(head, path, complete=False)
                return height, width
            except _NeedMore:
                more = fh.read(max(len(head), 1024))
                if not more:
                    break
                head += more
    _, width, height, _, _ = _pgm_header(head, path)  # the whole file ends inside its header
    return height, width


def write_pgm(path: Path | str, image: NDArray[np.uint8] | NDArray[np.uint16], comment: str | None = None) -> Path:
    r"""Write an image as binary PGM (P5), atomically; 16-bit samples big-endian.

    Parameters
    ----------
    path : str or pathlib.Path
    image : numpy.ndarray of shape (H, W), uint8 or uint16
    comment : str or None, a ``#`` line in the header

    Returns
    -------
    pathlib.Path written

    Width before height in the header, then the samples, the high byte first:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_pgm(Path(folder) / "tiny.pgm", np.array([[0, 1000]], np.uint16))
    ...     path.read_bytes(), read_pgm(path).tolist()
    (b'P5\n2 1\n65535\n\x00\x00\x03\xe8', [[0, 1000]])
    """
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype not in (np.uint8, np.uint16):
        raise DataError(f"write_pgm({path}): expected a 2-D uint8/uint16 array, got "
                        f"{image.dtype} of shape {image.shape}")
    maxval = 255 if image.dtype == np.uint8 else 65535
    header = b"P5\n" + (f"# {comment}\n".encode() if comment else b"")
    header += f"{image.shape[1]} {image.shape[0]}\n{maxval}\n".encode()
    body = image.astype(">u2").tobytes() if image.dtype == np.uint16 else image.tobytes()
    return write_bytes(path, header + body)


def _open(path: Path):
    """Open an image for reading; only regular files (a FIFO or device would block or never end)."""
    if not path.exists():
        raise DataError(f"{path}: image file not found. Check the folder, or for MIAS run "
                        "`mammokit data download mias` (see data/README.md).")
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a pipe, socket or device)"
        raise DataError(f"{path}: is {kind}, not an image file. Point at the image file itself.")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}). Check its permissions.") from None


def _read_bytes(path: Path) -> bytes:
    with _open(path) as fh:
        return fh.read()


def read_png(path: Path | str) -> NDArray[np.uint8] | NDArray[np.uint16]:
    """Read PNG/JPEG/TIFF with OpenCV, keeping 16-bit depth; colour is converted to gray.

    Parameters
    ----------
    path : str or pathlib.Path of a regular file

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8 or uint16
    """
    import cv2

    path = Path(path)
    raw = _read_bytes(path)
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and b"IEND" not in raw[-12:]:
        raise DataError(f"{path}: the PNG is truncated, so it cannot be decoded (cut short: {len(raw)} bytes, "
                        "no end chunk). Re-export it, or copy it again.")
    data = np.frombuffer(raw, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise DataError(f"{path}: OpenCV could not decode this image (damaged or not an image). "
                        "Re-export it as PNG.")
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    if image.dtype not in (np.uint8, np.uint16):
        raise DataError(f"{path}: pixel type {image.dtype} is not supported; save it as 8- or 16-bit.")
    return image


def read_image(path: Path | str) -> NDArray[np.uint8] | NDArray[np.uint16]:
    """An image from a PGM, PNG (or JPEG/TIFF) or DICOM file, whichever it is.

    The format is chosen by the file's first bytes (magic number), then by its suffix.

    Parameters
    ----------
    path : str or pathlib.Path of a regular file

    Returns
    -------
    numpy.ndarray of shape (H, W), uint8 or uint16 (a DICOM as :func:`mammokit.data.dicom.read_dicom` gives it)
    """
    path = Path(os.fspath(path))
    with _open(path) as fh:
        head = fh.read(132)
    suffix = path.suffix.lower()
    if head[:2] in _PGM_MAGIC:
        return read_pgm(path)
    if head[128:132] == b"DICM" or suffix in (".dcm", ".dicom"):
        from mammokit.data.dicom import read_dicom

        return read_dicom(path)
    if head[:8] == b"\x89PNG\r\n\x1a\n" or suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff"):
        return read_png(path)
    if suffix == ".pgm":
        return read_pgm(path)  # raises the wrong-magic message
    raise DataError(f"{path}: unknown image format (suffix {suffix!r}, first bytes {head[:8]!r}). "
                    "Use PGM, PNG or DICOM.")


# --- annotations checked against the pixels -------------------------------------------------------

def suspicious(catalog: pd.DataFrame, dark: int = 16, window: int = 7) -> list[str]:
    """Legal but worth a look: lesion centres lying on the film background (outside the breast).

    (The table-only checks are :func:`mammokit.data.validate.validate`; this one reads the films,
    so it lives beside the reader.)

    A centre whose ``window``×``window`` neighbourhood has a median grey level at most
    ``dark`` /255 of the image's range sits on the black film background: the annotation may be
    off, or (MIAS calcification clusters) describe a spread-out finding. One line per case.
    """
    # CBIS-DDSM centres are computed from ROI masks, not typed in: skip re-reading its ~3,000 large films
    located = catalog[catalog["row"].notna() & catalog["col"].notna() & (catalog["dataset"] != "cbis-ddsm")]
    found = []
    for path, group in located.groupby("path", sort=False):
        image = read_image(path)
        top = 255 if image.dtype == np.uint8 else int(image.max()) or 1
        for r in group.itertuples():
            row, col, k = int(round(r.row)), int(round(r.col)), window // 2
            patch = image[max(row - k, 0):row + k + 1, max(col - k, 0):col + k + 1]
            level = float(np.median(patch)) / top * 255
            if level <= dark:
                found.append(f"{r.image_id} {r.abnormality} {r.severity} at x={r.x:g}, y={r.y:g}: the centre lies "
                             f"on the film background (median grey {level:.0f}/255). Check this annotation.")
    return found

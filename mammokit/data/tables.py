"""Reading the text tables people bring: one home for encodings and CSV dialects.

Both the DICOM manifest (:mod:`mammokit.data.dicom`) and MIAS ``Info.txt``
(:mod:`mammokit.data.mias`) are read here, so a file saved by Excel, LibreOffice or Notepad
reads the same everywhere:

- **Encodings.** A byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32) is honoured, UTF-16 without
  one is recognised by its zero bytes, and UTF-8 is the default. A file that is not UTF-8 is
  either decoded with the caller's ``fallback`` (``Info.txt``: Latin-1, as the original) or
  rejected naming the line and the encoding to save it as; a spreadsheet (``.xlsx``) or other
  binary file saved under a text name is named as such.
- **CSV dialects.** The delimiter (comma, semicolon, tab) is taken from the header line;
  quoted fields, CRLF line ends, blank lines and trailing delimiters (Excel's empty last
  column) are accepted; a row with more values than the header has columns is an error that
  names its line. Line numbers are the file's own, blank lines included.

>>> import tempfile; path = Path(tempfile.mkdtemp()) / "m.csv"
>>> _ = path.write_bytes("path;patient_id;label\\r\\n\\r\\na.dcm;P1;1;\\r\\n".encode("utf-16"))
>>> table = read_csv(path, "manifest")
>>> table.frame.to_dict("records"), table.lines, table.delimiter, table.encoding
([{'path': 'a.dcm', 'patient_id': 'P1', 'label': '1'}], [3], ';', 'utf-16')
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mammokit.errors import DataError

DELIMITERS = (",", ";", "\t")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SAVE_AS = "Save it as UTF-8 text (Excel: 'CSV UTF-8 (Comma delimited)'; Notepad: encoding UTF-8)."


def _guess_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark or UTF-16's zero bytes give away; None for plain 8-bit text."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    if b"\0" not in head:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.3 * len(head) / 2 and even < odd / 4:
        return "utf-16-le"
    if even > 0.3 * len(head) / 2 and odd < even / 4:
        return "utf-16-be"
    return "binary"


def read_text(path: Path | str, what: str, fallback: str | None = None) -> tuple[str, str]:
    """(text, encoding) of the text file ``path``; :class:`DataError` naming ``what`` and the fix.

    ``fallback`` (e.g. ``"latin-1"``) decodes a file that is not UTF-8; without it such a file
    is an error naming the first line that is not UTF-8.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: the {what} cannot be read ({exc.strerror}). Check the path and its permissions.") from None
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError(f"{path}: the {what} is a spreadsheet workbook (Excel .xlsx/.xls), not text. "
                        f"Open it and use 'Save As' > CSV. {_SAVE_AS}")
    encoding = _guess_encoding(data)
    if encoding == "binary":
        raise DataError(f"{path}: the {what} holds zero bytes: it is a binary file, not text. {_SAVE_AS}")
    try:
        return data.decode(encoding or "utf-8"), encoding or "utf-8"
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        if encoding:  # a UTF-16/32 file cut short or damaged
            raise DataError(f"{path} line {line}: the {what} looks {encoding.upper()} but is not valid "
                            f"{encoding.upper()} (cut short or damaged). {_SAVE_AS}") from None
        if fallback:
            return data.decode(fallback), fallback
        byte = data[exc.start]
        raise DataError(f"{path} line {line}: byte 0x{byte:02x} is not UTF-8, so the {what} is in another "
                        f"encoding (Latin-1 / Windows-1252?). {_SAVE_AS}") from None


def delimiter_of(line: str) -> str:
    """The delimiter of a header line: the most frequent of comma, semicolon and tab (comma if none)."""
    unquoted = re.sub(r'"[^"]*"', "", line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def fields(line: str) -> list[str]:
    """The fields of a whitespace-separated row (``Info.txt``); a comma or semicolon also separates,
    so a row saved from a spreadsheet (``mdb001,G,CIRC,B,535,425,197``) reads the same."""
    return [f.strip('"') for f in re.split(r"[\s,;]+", line) if f.strip('"')]


@dataclass(frozen=True)
class CsvTable:
    """A CSV as read: ``frame`` (every value a stripped str, header names stripped), ``lines``
    (each row's 1-based line in the file), ``header_line``, ``delimiter`` and ``encoding``."""

    frame: pd.DataFrame
    lines: list[int]
    header_line: int
    delimiter: str
    encoding: str


def read_csv(path: Path | str, what: str) -> CsvTable:
    """A CSV with a header line (see the module docstring); :class:`DataError` naming file and line."""
    path = Path(path)
    text, encoding = read_text(path, what)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = delimiter_of(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    header: list[str] | None = None
    rows, lines, header_line, line = [], [], 0, 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue  # blank line, or only delimiters
            if header is None:
                header, header_line = cells, start
                while header and not header[-1]:
                    header.pop()  # a trailing delimiter on the header line
                _check_header(path, what, header, start)
                continue
            while len(cells) > len(header) and not cells[-1]:
                cells.pop()  # trailing delimiters (Excel's empty last column)
            if len(cells) > len(header):
                raise DataError(f"{path} line {start}: {len(cells)} values, but the header (line {header_line}) "
                                f"names {len(header)} columns. Remove the extra value(s), or quote a value that "
                                f"holds a {_NAMES[delimiter]}.")
            rows.append(cells[:len(header)] + [""] * (len(header) - len(cells)))
            lines.append(start)
    except csv.Error as exc:
        raise DataError(f"{path} line {line}: the {what} is not a readable CSV ({exc}). Check the quotes from "
                        "that line on: a value that starts with \" must end with \" (write \"\" for a quote inside).") from None
    if header is None:
        raise DataError(f"{path}: the {what} is empty (no header line). Its first line names the columns.")
    return CsvTable(pd.DataFrame(rows, columns=header, dtype=str), lines, header_line, delimiter, encoding)


def _check_header(path: Path, what: str, header: list[str], line: int) -> None:
    empty = [i + 1 for i, name in enumerate(header) if not name]
    if empty:
        raise DataError(f"{path} line {line}: column {empty[0]} of the {what}'s header has no name. "
                        "Name every column, or delete the empty one.")
    lower = [name.lower() for name in header]
    twice = sorted({name for name in lower if lower.count(name) > 1})
    if twice:
        raise DataError(f"{path} line {line}: the {what}'s header names column(s) {', '.join(twice)} twice. "
                        "Keep one of each.")

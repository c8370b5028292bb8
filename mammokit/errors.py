"""One error family, so notebooks and the CLI can show a clean message instead of a traceback.

Every message says what was wrong, where (file, line, parameter) and what to do about it.
"""
from __future__ import annotations


class MammokitError(Exception):
    """Base of every error the kit raises on purpose."""


class DataError(MammokitError):
    """A data file or folder is missing, malformed or does not match its checksum."""


class ConfigError(MammokitError, ValueError):
    """A parameter or configuration value is unknown or out of range."""


class DownloadError(MammokitError):
    """A download failed; the message says where to place the files by hand."""


class OutputError(MammokitError):
    """An output path cannot be written (a file where a folder belongs, no permission, unknown type)."""


class WriteError(OutputError, OSError):
    """A write failed for lack of room or rights (disk full, quota, read-only, permission).

    Also an :class:`OSError` (with its ``errno``), so code that handles operating-system errors
    keeps working; the message names the file, the free space and what to do."""

    def __init__(self, message: str, errno: int | None = None, filename: str | None = None):
        super().__init__(message)
        self.errno, self.filename = errno, filename

    def __str__(self) -> str:
        return str(self.args[0])

"""Action logs: every line an action prints, with its time, readable while it runs."""

from stageline.logs.files import FileLogStore, FileLogWriter
from stageline.logs.model import (
    DEFAULT_MAX_BYTES,
    DEFAULT_PAGE_BYTES,
    InvalidLogIdError,
    LogLine,
    LogNotFoundError,
    LogPage,
    LogStore,
    LogWriter,
    part_id,
    validate_log_id,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_PAGE_BYTES",
    "FileLogStore",
    "FileLogWriter",
    "InvalidLogIdError",
    "LogLine",
    "LogNotFoundError",
    "LogPage",
    "LogStore",
    "LogWriter",
    "part_id",
    "validate_log_id",
]

"""Why a report file was refused, always naming the file and the problem.

Report files come out of a user's build, so they are hostile input: a broken
file must never take the build (or the server) down with it, and the person
reading the action's summary must be told which file was bad and why.
"""

from __future__ import annotations


class ReportError(ValueError):
    """A report file that cannot be used; ``str()`` reads "<file>: <what is wrong>"."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class ReportTooLarge(ReportError):
    """The file passes a size, element, depth or file-count cap."""


class UnsafeReport(ReportError):
    """The XML declares entities or a DTD internal subset (XXE, billion laughs)."""


class MalformedReport(ReportError):
    """The file is truncated, not well-formed, or holds values of the wrong type."""


class WrongFormat(ReportError):
    """The file is readable but is not the format the report group declares."""


class UnsupportedFileFormat(ValueError):
    """A ``file-format`` name that CodeBuild does not define."""

"""A phase's ``on-failure`` setting, read the way CodeBuild's buildspec reference defines it.

The documented values are ``ABORT`` (abort the build), ``CONTINUE`` (continue
to the next phase), ``RETRY`` (retry up to 3 times, for an error message that
matches ``.*``), ``RETRY-<count>`` (count between 0 and 100),
``RETRY-<regex>`` (up to 3 times, only when the error message matches the
regex) and ``RETRY-<count>-<regex>``. AWS's own examples spell the keyword
``Retry-3-.*connection timed out.*``, so the keyword is read without regard to
case; the regex keeps its case. An all-digit suffix is a count, never a regex.

What "the error message" is, AWS does not define; we match the regex against
the failing command's context message ("Error while executing command: X.
Reason: exit status N") and against every line the attempt printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

#: Retries when ``RETRY`` or ``RETRY-<regex>`` gives no count.
DEFAULT_RETRIES = 3
MAX_RETRIES = 100
_EXPECTED = "ABORT, CONTINUE or RETRY[-count][-regex]"


class FailureAction(StrEnum):
    ABORT = "ABORT"
    CONTINUE = "CONTINUE"
    RETRY = "RETRY"


@dataclass(frozen=True, kw_only=True)
class OnFailure:
    """What to do when a phase fails; ``retries`` and ``pattern`` only matter for RETRY."""

    action: FailureAction
    retries: int = 0
    #: The regex an error must match to be retried; None means any error (``.*``).
    pattern: str | None = None
    #: The value as written in the buildspec, for logs.
    raw: str = ""

    def should_retry(self, message: str, output: Iterable[str]) -> bool:
        """Whether a failure with this context ``message`` and ``output`` lines is retried."""
        if self.action is not FailureAction.RETRY:
            return False
        if self.pattern is None:
            return True
        regex = re.compile(self.pattern)
        return bool(regex.search(message)) or any(regex.search(line) for line in output)


def parse_on_failure(value: str) -> OnFailure:
    """Read one ``on-failure`` value; raises ValueError with the reason when it is not valid."""
    text = value.strip()
    upper = text.upper()
    if upper in ("ABORT", "CONTINUE"):
        return OnFailure(action=FailureAction(upper), raw=text)
    if upper == "RETRY":
        return OnFailure(action=FailureAction.RETRY, retries=DEFAULT_RETRIES, raw=text)
    if not upper.startswith("RETRY-"):
        raise ValueError(f"{text!r} is not {_EXPECTED}")
    rest = text[len("RETRY-") :]
    if not rest:
        raise ValueError(f"{text!r} is not {_EXPECTED}: nothing follows 'RETRY-'")
    count_text, dash, regex = rest.partition("-")
    if count_text.isdigit():
        count = int(count_text)
        if count > MAX_RETRIES:
            raise ValueError(f"{text!r}: the retry count must be between 0 and {MAX_RETRIES}")
        if dash and not regex:
            raise ValueError(f"{text!r} is not {_EXPECTED}: the regex after the count is empty")
        pattern = regex or None
    else:
        count, pattern = DEFAULT_RETRIES, rest
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"{text!r}: {pattern!r} is not a valid regular expression ({exc})"
            ) from None
    return OnFailure(action=FailureAction.RETRY, retries=count, pattern=pattern, raw=text)

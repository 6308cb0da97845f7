"""The errors of the build runner, each carrying a message a user can act on."""

from __future__ import annotations


class BuildspecError(ValueError):
    """A buildspec that cannot run as written.

    ``problems`` holds one line per problem, each naming the key path
    (``phases.build.on-failure``) and what would fix it, so a user with several
    mistakes learns of all of them at once instead of one per attempt.
    """

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            text = self.problems[0]
        else:
            text = f"{len(self.problems)} problems in the buildspec:\n" + "\n".join(
                f"- {p}" for p in self.problems
            )
        super().__init__(text)


class ArtifactError(ValueError):
    """The build's output cannot be packed as the ``artifacts`` section asks.

    ``status_code`` is the CodeBuild phase-context code to report
    (``CLIENT_ERROR`` for "no matching artifact paths found").
    """

    def __init__(self, message: str, *, status_code: str = "CLIENT_ERROR") -> None:
        super().__init__(message)
        self.status_code = status_code


class CacheError(ValueError):
    """A ``cache.paths`` entry that cannot be mapped safely under the cache directory."""

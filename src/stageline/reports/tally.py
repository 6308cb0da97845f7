"""Counting covered lines and branches per file from line-level coverage data.

Several formats can mention one line more than once: Cobertura lists a line
under each class of a file (inner classes), LCOV repeats a file once per test
name, SimpleCov once per test command. Counting each mention would inflate the
totals, so a line counts once, covered if any mention covered it, and its
branches count once with the best covered figure any mention gave.
"""

from __future__ import annotations

from stageline.reports.model import FileCoverage


class LineTally:
    """Per-file line hits and branch figures, merged by line number, in first-seen file order."""

    def __init__(self) -> None:
        self._lines: dict[str, dict[int, bool]] = {}
        self._branches: dict[str, dict[object, tuple[int, int]]] = {}

    def line(self, path: str, number: int, hits: int) -> None:
        lines = self._file(path)
        lines[number] = lines.get(number, False) or hits > 0

    def branches(self, path: str, key: object, covered: int, total: int) -> None:
        """``covered`` of ``total`` branch outcomes at ``key`` (a line, or a branch id)."""
        self._file(path)
        per_file = self._branches.setdefault(path, {})
        old_covered, old_total = per_file.get(key, (0, 0))
        most = max(total, old_total)
        per_file[key] = (min(max(covered, old_covered), most), most)

    def touch(self, path: str) -> None:
        """Record a file even if it has no executable lines."""
        self._file(path)

    def _file(self, path: str) -> dict[int, bool]:
        return self._lines.setdefault(path, {})

    @property
    def file_count(self) -> int:
        return len(self._lines)

    def files(self) -> list[FileCoverage]:
        out = []
        for path, lines in self._lines.items():
            covered = sum(1 for hit in lines.values() if hit)
            branches = self._branches.get(path, {}).values()
            branches_covered = sum(c for c, _ in branches)
            branches_total = sum(t for _, t in branches)
            out.append(
                FileCoverage(
                    path=path,
                    lines_covered=covered,
                    lines_missed=len(lines) - covered,
                    branches_covered=branches_covered,
                    branches_missed=branches_total - branches_covered,
                )
            )
        return out

"""The glob matcher for a Commands output artifact's ``files``."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.providers.compute.files import (
    Glob,
    PatternError,
    compile_patterns,
    copy_matching,
)


@pytest.mark.parametrize(
    ("pattern", "path", "selected"),
    [
        ("**/*", "a/b/c.txt", True),
        ("**/*", "top", True),
        ("**/", "top", True),
        ("**", "a/b", True),
        ("*.txt", "a.txt", True),
        ("*.txt", "d/a.txt", False),
        ("**/*.txt", "a.txt", True),
        ("**/*.txt", "d/e/a.txt", True),
        ("**/*.txt", "d/e/a.txt.bak", False),
        ("dist", "dist/x/y", True),
        ("dist/", "dist/x", True),
        ("dist/", "dist", False),  # a file named dist is not the directory dist/
        ("dist/**/*", "dist/a", True),
        ("dist/**/*", "distx/a", False),
        ("d/*", "d/e", True),
        ("d/*", "d/e/f", False),  # CodeBuild: files directly in d only
        ("./d/*.js", "d/x.js", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[!a]*", "b.c", True),
        ("[!a]*", "a.c", False),
        ("[[]x", "[x", True),
        ("[a-c].py", "b.py", True),
        ("*", ".env", True),
        ("build/*.[jw]ar", "build/app.war", True),
    ],
)
def test_patterns(pattern: str, path: str, selected: bool) -> None:
    from stageline.providers.compute.files import _selected

    assert _selected(path, [Glob.compile(pattern)]) is selected


@pytest.mark.parametrize("pattern", ["", "  ", "/etc/passwd", "../x", "a/../../b", "C:\\x"])
def test_patterns_that_leave_the_directory_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        Glob.compile(pattern)


def test_copy_keeps_relative_paths_and_skips_excluded_directories(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "a" / "b").mkdir(parents=True)
    (source / "a" / "b" / "deep.txt").write_text("deep")
    (source / "top.txt").write_text("top")
    (source / "out").mkdir()
    (source / "out" / "old.txt").write_text("never copied into itself")
    destination = source / "out"
    report = copy_matching(
        source, destination, compile_patterns(["**/*.txt"]), exclude=[destination]
    )
    assert report.copied == 2
    assert (destination / "a" / "b" / "deep.txt").read_text() == "deep"
    assert (destination / "top.txt").read_text() == "top"
    assert not (destination / "out").exists()

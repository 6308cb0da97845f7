"""CodeBuild-style artifact globs: '*' stays in a segment, '**' spans any number of them."""

from __future__ import annotations

import pytest

from stageline.artifacts.globs import PathFilter, glob_to_regex


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**/*", "a", True),
        ("**/*", "a/b/c.txt", True),
        ("**/*", ".hidden/x", True),
        ("*.py", "setup.py", True),
        ("*.py", "src/setup.py", False),
        ("src/**/*.js", "src/a.js", True),
        ("src/**/*.js", "src/x/y/a.js", True),
        ("src/**/*.js", "src/x/a.ts", False),
        ("src/**/*.js", "lib/src/a.js", False),
        ("dist/**", "dist/a/b", True),
        ("dist/**", "dist", False),
        ("dist/", "dist/a", True),
        ("./", "a/b", True),
        ("./build/app.jar", "build/app.jar", True),
        ("build/*.jar", "build/sub/app.jar", False),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("[ab]*.txt", "b1.txt", True),
        ("[!ab]*.txt", "b1.txt", False),
        ("[!ab]*.txt", "c1.txt", True),
        ("a**b", "axxb", True),
        ("a**b", "ax/xb", False),
        ("**/node_modules/**/*", "web/node_modules/x/index.js", True),
        ("**/node_modules/**/*", "node_modules/index.js", True),
        ("weird[name", "weird[name", True),
        ("a+b(c).txt", "a+b(c).txt", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert bool(glob_to_regex(pattern).fullmatch(path)) is matches


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("/etc/*", "is absolute"),
        ("../*", "contains '..'"),
        ("a/../../b", "contains '..'"),
        ("a\\b", "backslash"),
        ("", "empty"),
        (".", "matches nothing"),
    ],
)
def test_patterns_that_could_reach_outside_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        glob_to_regex(pattern)


def test_exclude_applies_after_include() -> None:
    keep = PathFilter(["**/*"], ["**/*.log", "tmp/**/*"])
    assert keep.matches("src/app.py")
    assert not keep.matches("logs/build.log")
    assert not keep.matches("tmp/a/b")
    assert PathFilter().matches("anything/at/all")
    assert not PathFilter([]).matches("anything")


def test_a_bare_string_is_not_taken_for_a_list() -> None:
    with pytest.raises(TypeError):
        PathFilter("**/*")

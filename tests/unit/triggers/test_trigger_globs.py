"""The glob rules of CodePipeline's trigger filters, one row per rule of "Working with glob
patterns in syntax"."""

from __future__ import annotations

import pytest

from stageline.triggers.globs import GlobError, check, matches


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        # a name matches only itself, whole
        ("main", "main", True),
        ("main", "mainline", False),
        ("main", "feature/main", False),
        # * stays within one path segment
        ("*.java", "App.java", True),
        ("*.java", "src/App.java", False),
        ("feature/*", "feature/login", True),
        ("feature/*", "feature/login/v2", False),
        ("*", "", True),
        # ** crosses segments, and is plain ".*": it needs the slash written after it
        ("feature/**", "feature/login/v2", True),
        ("**", "any/thing/at/all", True),
        ("**/README.md", "docs/README.md", True),
        ("**/README.md", "README.md", False),
        ("src/**/*.js", "src/a/b/c.js", True),
        ("src/**/*.js", "src/c.js", False),
        # ? is one character other than /
        ("foo.?", "foo.c", True),
        ("foo.?", "foo.cc", False),
        ("a?b", "a/b", False),
        # [...] sets, ranges, negation; inside, * ? \ are themselves, - first is itself
        ("release-[0-9]", "release-7", True),
        ("release-[0-9]", "release-x", False),
        ("[!a-c]x", "dx", True),
        ("[!a-c]x", "bx", False),
        ("[!a]x", "/x", False),
        ("v[-.]1", "v-1", True),
        ("v[-.]1", "v.1", True),
        ("[*?]", "*", True),
        ("[*?]", "a", False),
        ("x[!-]", "x-", False),
        ("x[!-]", "xy", True),
        # {a,b} groups, with globs inside
        ("*.{java,class}", "A.class", True),
        ("*.{java,class}", "A.kt", False),
        ("{main,release/**}", "release/2024/05", True),
        ("{main,release/**}", "develop", False),
        # \ escapes; regex characters are literal
        (r"v\*", "v*", True),
        (r"v\*", "v1", False),
        ("a.b", "axb", False),
        ("(x)+", "(x)+", True),
        ("v1^2$", "v1^2$", True),
    ],
)
def test_glob_rules(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("release-[0-9", "never closed with ']'"),
        ("{a,b", "never closed with '}'"),
        ("{a,{b,c}}", "nests"),
        ("v\\", "escapes nothing"),
        ("[a/b]", "'/' inside"),
        ("[z-a]", "empty range"),
    ],
)
def test_invalid_globs_say_why(pattern: str, message: str) -> None:
    with pytest.raises(GlobError, match=message):
        check(pattern)


def test_a_closing_brace_or_comma_outside_a_group_is_literal() -> None:
    assert matches("a,b}", "a,b}")

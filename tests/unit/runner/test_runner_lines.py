"""Splitting a process's byte stream into log lines."""

from __future__ import annotations

from stageline.runner.lines import LineSplitter


def split(*chunks: bytes, max_line_bytes: int = 64 * 1024) -> list[str]:
    lines: list[str] = []
    splitter = LineSplitter(lines.append, max_line_bytes=max_line_bytes)
    for chunk in chunks:
        splitter.feed(chunk)
    splitter.close()
    return lines


def test_lines_across_chunks_and_a_last_line_without_newline() -> None:
    assert split(b"one\ntw", b"o\nthr", b"ee") == ["one", "two", "three"]


def test_crlf_line_ends_lose_their_cr_and_empty_lines_stay() -> None:
    assert split(b"a\r\n\r\nb\n") == ["a", "", "b"]


def test_long_line_is_cut_at_the_limit() -> None:
    lines = split(b"x" * 25 + b"\n", max_line_bytes=10)
    assert lines == ["x" * 10, "x" * 10, "x" * 5]


def test_long_line_fed_in_small_chunks_keeps_memory_bounded() -> None:
    lines: list[str] = []
    splitter = LineSplitter(lines.append, max_line_bytes=16)
    for _ in range(100):
        splitter.feed(b"y" * 7)
        assert len(splitter._pending) <= 16
    splitter.close()
    assert "".join(lines) == "y" * 700


def test_cut_never_splits_a_utf8_character() -> None:
    text = "é" * 30  # two bytes each
    lines = split(text.encode() + b"\n", max_line_bytes=11)
    assert "".join(lines) == text
    assert all("\ufffd" not in line for line in lines)


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert split(b"ok \xff\xfe end\n") == ["ok \ufffd\ufffd end"]

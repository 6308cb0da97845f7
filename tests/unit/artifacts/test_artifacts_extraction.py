"""Extraction treats every archive as hostile: each refusal is explained and stays inside."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from stageline.artifacts import UnsafeArchiveError, extract_zip
from stageline.artifacts import plan as plan_module

MB = 1024 * 1024
FILE = stat.S_IFREG | 0o644
LINK = stat.S_IFLNK | 0o777


@pytest.fixture
def outer(tmp_path: Path) -> Path:
    """The directory around the workspace: after any refusal it holds only the workspace."""
    path = tmp_path / "outer"
    path.mkdir()
    return path


@pytest.fixture
def workspace(outer: Path) -> Path:
    return outer / "ws"


def _zip(
    entries: Iterable[tuple[str, bytes | str, int]],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """An archive built by hand: (name, content, st_mode) per entry, names kept verbatim."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def _refused(archive: bytes, workspace: Path, outer: Path, message: str, **limits: int) -> None:
    with pytest.raises(UnsafeArchiveError) as caught:
        extract_zip(
            io.BytesIO(archive), workspace, max_total_bytes=limits.pop("limit", MB), **limits
        )
    assert str(caught.value) == message
    assert [p.name for p in outer.iterdir()] == ["ws"]  # nothing written beside the workspace


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", "would be written outside the workspace"),
        ("a/../../x", "would be written outside the workspace"),
        ("../../etc/passwd", "would be written outside the workspace"),
        ("..\\x", "contains a backslash, which Windows tools read as a path separator"),
        ("a\\..\\..\\x", "contains a backslash, which Windows tools read as a path separator"),
        ("C:/x", "starts with a drive letter and would be written outside the workspace"),
        ("C:x", "starts with a drive letter and would be written outside the workspace"),
        ("a\nb", "contains a control character"),
    ],
)
def test_entry_paths_leaving_the_workspace_are_refused(
    workspace: Path, outer: Path, name: str, reason: str
) -> None:
    archive = _zip([("ok.txt", "fine", FILE), (name, "pwned", FILE)])
    _refused(archive, workspace, outer, f"entry {name!r} {reason}; the artifact is refused")


def test_absolute_entry_is_refused(workspace: Path, outer: Path) -> None:
    name = str(outer / "x")
    archive = _zip([(name, "pwned", FILE)])
    _refused(
        archive,
        workspace,
        outer,
        f"entry {name!r} has an absolute path and would be written outside the workspace; "
        "the artifact is refused",
    )


def test_nul_in_a_name_is_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("aXb/../../x", "pwned", FILE)]).replace(b"aXb", b"a\x00b")
    _refused(
        archive,
        workspace,
        outer,
        "entry 'a\\x00b/../../x' contains a NUL character; the artifact is refused",
    )


def test_symlink_to_an_absolute_path_is_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("link", "/etc", LINK)])
    _refused(
        archive,
        workspace,
        outer,
        "symlink 'link' points to '/etc', outside the workspace (an absolute path); "
        "the artifact is refused",
    )


def test_symlink_climbing_out_is_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("sub/link", "../../outer-file", LINK)])
    _refused(
        archive,
        workspace,
        outer,
        "symlink 'sub/link' points to '../../outer-file', outside the workspace; "
        "the artifact is refused",
    )


def test_symlink_escaping_through_another_symlink_is_refused(workspace: Path, outer: Path) -> None:
    # a/up -> .. is harmless alone (it is the workspace); b -> a/up/.. is its parent.
    archive = _zip([("a/up", "..", LINK), ("b", "a/up/..", LINK)])
    _refused(
        archive,
        workspace,
        outer,
        "symlink 'b' points to 'a/up/..', outside the workspace; the artifact is refused",
    )


@pytest.mark.parametrize("link_first", [True, False])
def test_entry_under_a_symlink_is_refused(workspace: Path, outer: Path, link_first: bool) -> None:
    entries = [("link", "..", LINK), ("link/escape", "pwned", FILE)]
    archive = _zip(entries if link_first else entries[::-1])
    _refused(
        archive,
        workspace,
        outer,
        "entry 'link/escape' would be written through the symlink 'link'; the artifact is refused",
    )


def test_entry_under_a_symlink_already_in_the_workspace_is_refused(
    workspace: Path, outer: Path
) -> None:
    workspace.mkdir()
    (workspace / "pre").symlink_to(outer)
    archive = _zip([("pre/escape", "pwned", FILE)])
    with pytest.raises(
        UnsafeArchiveError, match="'pre/escape' would be written through the symlink 'pre'"
    ):
        extract_zip(io.BytesIO(archive), workspace, max_total_bytes=MB)
    assert [p.name for p in outer.iterdir()] == ["ws"]


def test_symlink_loop_is_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("a", "b", LINK), ("b", "a/x", LINK)])
    _refused(
        archive, workspace, outer, "symlink 'a' is part of a symlink loop; the artifact is refused"
    )


def test_zip_bomb_is_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("bomb", bytes(50 * MB), FILE)])
    assert len(archive) < 100_000  # 50 MB of zeros deflate to ~50 KB
    _refused(
        archive,
        workspace,
        outer,
        f"archive expands to more than {10 * MB} bytes, the limit; the artifact is refused",
        limit=10 * MB,
    )


def test_bytes_are_counted_while_streaming_not_taken_from_headers(
    workspace: Path, outer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with the header precheck out of the way, writing stops at the limit."""
    monkeypatch.setattr(plan_module, "_check_declared", lambda infos, limit: None)
    archive = _zip([("a", bytes(6 * MB), FILE), ("b", bytes(6 * MB), FILE)])
    _refused(
        archive,
        workspace,
        outer,
        f"archive expands to more than {10 * MB} bytes, the limit; the artifact is refused",
        limit=10 * MB,
    )
    written = sum(p.stat().st_size for p in workspace.rglob("*") if p.is_file())
    assert written <= 10 * MB


def test_header_lying_about_the_size_is_refused(workspace: Path, outer: Path) -> None:
    archive = bytearray(_zip([("liar", bytes(50 * MB), FILE)]))
    central = archive.rindex(b"PK\x01\x02")
    struct.pack_into("<L", archive, 22, 1000)  # local header: uncompressed size
    struct.pack_into("<L", archive, central + 24, 1000)  # central directory: the same
    with pytest.raises(
        UnsafeArchiveError, match=r"^entry 'liar' is corrupt \(.*CRC.*\); the artifact is refused$"
    ):
        extract_zip(io.BytesIO(bytes(archive)), workspace, max_total_bytes=10 * MB)
    assert (workspace / "liar").stat().st_size <= 1000
    assert [p.name for p in outer.iterdir()] == ["ws"]


def test_too_many_entries_are_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([(f"f{i}", "x", FILE) for i in range(11)])
    _refused(
        archive,
        workspace,
        outer,
        "archive has 11 entries, more than 10, the limit; the artifact is refused",
        max_files=10,
    )


@pytest.mark.parametrize(
    ("mode", "what"),
    [
        (stat.S_IFCHR | 0o666, "a character device"),
        (stat.S_IFBLK | 0o666, "a block device"),
        (stat.S_IFIFO | 0o644, "a FIFO"),
        (stat.S_IFSOCK | 0o644, "a socket"),
    ],
)
def test_special_files_are_refused(workspace: Path, outer: Path, mode: int, what: str) -> None:
    archive = _zip([("dev", "", mode)])
    _refused(
        archive,
        workspace,
        outer,
        f"entry 'dev' is {what}; only files, directories and symlinks can be extracted; "
        "the artifact is refused",
    )


def test_duplicate_entries_are_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("a.txt", "one", FILE), ("./a.txt", "two", FILE)])
    _refused(
        archive,
        workspace,
        outer,
        "entry './a.txt' appears more than once in the archive ('a.txt'); the artifact is refused",
    )


def test_file_used_as_a_directory_is_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("a/b", "x", FILE), ("a", "x", FILE)])
    _refused(
        archive,
        workspace,
        outer,
        "entry 'a/b' needs 'a' to be a directory, but it is a file; the artifact is refused",
    )


def test_unbounded_compression_methods_are_refused(workspace: Path, outer: Path) -> None:
    archive = _zip([("a", "x" * 100, FILE)], compression=zipfile.ZIP_BZIP2)
    _refused(
        archive,
        workspace,
        outer,
        "entry 'a' uses compression method 12; only stored and deflated entries can be "
        "extracted with bounded memory; the artifact is refused",
    )


def test_encrypted_entries_are_refused(workspace: Path, outer: Path) -> None:
    archive = bytearray(_zip([("secret", "x", FILE)]))
    central = archive.rindex(b"PK\x01\x02")
    archive[central + 8] |= 0x1  # general purpose flag: encrypted
    _refused(
        bytes(archive), workspace, outer, "entry 'secret' is encrypted; the artifact is refused"
    )


def test_garbage_is_refused(workspace: Path, outer: Path) -> None:
    with pytest.raises(UnsafeArchiveError, match=r"^the artifact is not a readable zip archive"):
        extract_zip(io.BytesIO(b"not a zip at all"), workspace, max_total_bytes=MB)


def test_modes_keep_the_executable_bit_but_never_setuid(tmp_path: Path) -> None:
    archive = _zip(
        [
            ("bin/tool", "#!/bin/sh\n", stat.S_IFREG | stat.S_ISUID | stat.S_ISGID | 0o755),
            ("data.txt", "x", stat.S_IFREG | 0o666),
            ("windows.txt", "x", 0),
            ("dir/", "", stat.S_IFDIR | 0o777),
        ]
    )
    summary = extract_zip(io.BytesIO(archive), tmp_path / "ws", max_total_bytes=MB)
    assert (summary.files, summary.directories) == (3, 1)
    assert (tmp_path / "ws" / "bin" / "tool").stat().st_mode & 0o7777 == 0o755
    assert (tmp_path / "ws" / "data.txt").stat().st_mode & 0o7777 == 0o644
    assert (tmp_path / "ws" / "windows.txt").stat().st_mode & 0o7777 == 0o644
    assert (tmp_path / "ws" / "dir").is_dir()


def test_harmless_dot_dot_and_inside_links_are_accepted(tmp_path: Path) -> None:
    archive = _zip(
        [
            ("a/../b.txt", "b", FILE),
            ("lib/real.so.1", "elf", FILE),
            ("lib/real.so", "real.so.1", LINK),
            ("lib/self", ".", LINK),
            ("top", "lib/../b.txt", LINK),
        ]
    )
    summary = extract_zip(io.BytesIO(archive), tmp_path / "ws", max_total_bytes=MB)
    assert summary.symlinks == 3
    assert (tmp_path / "ws" / "b.txt").read_text() == "b"
    assert (tmp_path / "ws" / "lib" / "real.so").read_text() == "elf"
    assert (tmp_path / "ws" / "top").read_text() == "b"


def test_extracts_from_a_stream_that_cannot_seek(tmp_path: Path, guarded: type) -> None:
    archive = _zip([("a.txt", "hello", FILE)])
    stream = guarded(io.BytesIO(archive), seekable=False)
    summary = extract_zip(stream, tmp_path / "ws", max_total_bytes=MB)
    assert summary.files == 1
    assert (tmp_path / "ws" / "a.txt").read_text() == "hello"


def test_extracts_from_a_path(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(_zip([("a.txt", "hello", FILE)]))
    extract_zip(tmp_path / "a.zip", tmp_path / "ws", max_total_bytes=MB)
    assert (tmp_path / "ws" / "a.txt").read_text() == "hello"


def test_stored_entries_are_read_in_chunks(tmp_path: Path, guarded: type) -> None:
    """An uncompressed entry is where a whole-member read would show: the guard forbids it."""
    path = tmp_path / "stored.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive,
        archive.open("big.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(48):
            member.write(bytes(MB))
    with path.open("rb") as raw:
        summary = extract_zip(guarded(raw), tmp_path / "ws", max_total_bytes=64 * MB)
    assert summary.bytes == 48 * MB


def test_overlong_names_are_refused(workspace: Path, outer: Path) -> None:
    name = "a/" * 2100 + "x"
    with pytest.raises(
        UnsafeArchiveError, match=r"has a path longer than 4096 bytes; the artifact"
    ):
        extract_zip(io.BytesIO(_zip([(name, "x", FILE)])), workspace, max_total_bytes=MB)


def test_link_chains_resolving_too_deep_are_refused(workspace: Path, outer: Path) -> None:
    deep = "x/" * 2000
    archive = _zip([("l1", deep, LINK), ("l2", "l1/" + deep, LINK)])
    _refused(
        archive,
        workspace,
        outer,
        "symlink 'l2' resolves to a path longer than 4096 bytes; the artifact is refused",
    )


def test_deep_paths_count_their_directories_against_the_limit(workspace: Path, outer: Path) -> None:
    archive = _zip([("a/" * 20 + "x", "x", FILE)])
    _refused(
        archive,
        workspace,
        outer,
        "archive would create more than 10 files, directories and symlinks, the limit; "
        "the artifact is refused",
        max_files=10,
    )


def test_links_already_in_the_workspace_take_part_in_resolution(
    workspace: Path, outer: Path
) -> None:
    (workspace / "sub").mkdir(parents=True)
    (workspace / "sub" / "up").symlink_to("..")  # the workspace itself: harmless alone
    archive = _zip([("b", "sub/up/..", LINK)])
    _refused(
        archive,
        workspace,
        outer,
        "symlink 'b' points to 'sub/up/..', outside the workspace; the artifact is refused",
    )


def test_archive_wins_over_files_already_in_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.txt").write_text("old")
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    (workspace / "hard.txt").hardlink_to(outside)
    archive = _zip(
        [
            ("a.txt", "new", FILE),
            ("hard.txt", "new", FILE),
            ("d/", "", stat.S_IFDIR | 0o755),
            ("./d/", "", stat.S_IFDIR | 0o755),
        ]
    )
    summary = extract_zip(io.BytesIO(archive), workspace, max_total_bytes=MB)
    assert (workspace / "a.txt").read_text() == "new"
    assert outside.read_text() == "untouched"  # a hard link is replaced, not written through
    assert summary.directories == 1


def test_absurdly_deep_paths_are_refused(workspace: Path, outer: Path) -> None:
    with pytest.raises(
        UnsafeArchiveError, match=r"is nested more than 256 levels deep; the artifact"
    ):
        extract_zip(
            io.BytesIO(_zip([("a/" * 300 + "x", "x", FILE)])), workspace, max_total_bytes=MB
        )

"""Zipping a workspace the way CodeBuild's artifacts section does, and getting it back intact."""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import pytest

from stageline.artifacts import (
    MAX_GIT_SOURCE_BYTES,
    PackagingError,
    ZipSummary,
    extract_zip,
    zip_directory,
)
from stageline.artifacts import zipping as zipping_module

LIMIT = MAX_GIT_SOURCE_BYTES


def _tree(root: Path) -> None:
    """A workspace with nesting, an empty directory, a script and an inside symlink."""
    (root / "src" / "lib" / "deep").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "src" / "lib" / "util.js").write_text("export {}\n")
    (root / "src" / "lib" / "deep" / "more.js").write_text("// more\n")
    (root / "src" / "lib" / "style.css").write_text("body {}\n")
    (root / "empty" / "nested-empty").mkdir(parents=True)
    (root / "run.sh").write_text("#!/bin/sh\necho ok\n")
    (root / "run.sh").chmod(0o755)
    (root / "README.md").write_text("# readme\n")
    (root / ".env.example").write_text("A=1\n")
    (root / "current").symlink_to("src/lib")
    (root / "src" / "latest.py").symlink_to("app.py")


def _snapshot(root: Path) -> dict[str, tuple[str, Any]]:
    """Every path under root with its type and content, mode bit or link target."""
    found: dict[str, tuple[str, Any]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir", None)
            else:
                executable = bool(path.stat().st_mode & stat.S_IXUSR)
                found[rel] = ("file", (path.read_bytes(), executable))
    return found


def _zip(src: Path, **options: Any) -> tuple[ZipSummary, zipfile.ZipFile]:
    buffer = io.BytesIO()
    summary = zip_directory(src, buffer, **options)
    buffer.seek(0)
    return summary, zipfile.ZipFile(buffer)


def test_round_trip_keeps_tree_empty_dirs_modes_and_links(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    _tree(src)
    buffer = io.BytesIO()
    summary = zip_directory(src, buffer)
    assert (summary.files, summary.directories, summary.symlinks) == (7, 1, 2)
    buffer.seek(0)
    extracted = extract_zip(buffer, out, max_total_bytes=LIMIT)
    assert (extracted.files, extracted.directories, extracted.symlinks) == (7, 1, 2)
    assert extracted.bytes == summary.bytes
    assert _snapshot(out) == _snapshot(src)
    assert (out / "current" / "util.js").read_text() == "export {}\n"
    assert (out / "run.sh").stat().st_mode & 0o777 == 0o755


def test_real_mtimes_are_kept(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    old = tmp_path / "src" / "old.txt"
    old.write_text("x")
    os.utime(old, (1_500_000_000, 1_500_000_000))
    buffer = io.BytesIO()
    zip_directory(tmp_path / "src", buffer)
    buffer.seek(0)
    extract_zip(buffer, tmp_path / "out", max_total_bytes=LIMIT)
    assert abs((tmp_path / "out" / "old.txt").stat().st_mtime - 1_500_000_000) <= 2


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["*.py"], [], set()),
        (["*.md"], [], {"README.md"}),
        (["src/**/*.js"], [], {"src/lib/util.js", "src/lib/deep/more.js"}),
        (["src/**/*"], ["**/*.js", "src/latest.py"], {"src/app.py", "src/lib/style.css"}),
        (["**/*.py", "*.sh"], [], {"src/app.py", "src/latest.py", "run.sh"}),
    ],
)
def test_globs_choose_the_files(
    tmp_path: Path, include: list[str], exclude: list[str], expected: set[str]
) -> None:
    _tree(tmp_path)
    _, archive = _zip(tmp_path, include=include, exclude=exclude)
    assert set(archive.namelist()) == expected


def test_everything_by_default_including_dotfiles(tmp_path: Path) -> None:
    _tree(tmp_path)
    _, archive = _zip(tmp_path, include=["**/*"])
    names = set(archive.namelist())
    assert {".env.example", "empty/nested-empty/", "current", "src/lib/deep/more.js"} <= names


def test_base_directory_makes_paths_relative_to_it(tmp_path: Path) -> None:
    _tree(tmp_path)
    _, archive = _zip(tmp_path, include=["**/*.js"], base_directory="src/lib")
    assert set(archive.namelist()) == {"util.js", "deep/more.js"}


def test_missing_or_escaping_base_directory_is_explained(tmp_path: Path) -> None:
    _tree(tmp_path)
    with pytest.raises(PackagingError, match=re.escape("base directory 'dist' does not exist")):
        _zip(tmp_path, base_directory="dist")
    with pytest.raises(
        PackagingError, match=re.escape("base directory '../x' must be a relative path")
    ):
        _zip(tmp_path, base_directory="../x")
    (tmp_path / "out").symlink_to(tmp_path.parent)
    with pytest.raises(PackagingError, match="leads outside the workspace"):
        _zip(tmp_path, base_directory="out")


def test_discard_paths_flattens(tmp_path: Path) -> None:
    _tree(tmp_path)
    _, archive = _zip(tmp_path, include=["src/**/*.js", "src/**/*.css"], discard_paths=True)
    assert set(archive.namelist()) == {"util.js", "more.js", "style.css"}


def test_discard_paths_collision_names_both_files(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "index.html").write_text(folder)
    with pytest.raises(PackagingError, match=re.escape("both 'a/index.html' and 'b/index.html'")):
        _zip(tmp_path, discard_paths=True)


def test_symlink_leaving_the_tree_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(
        PackagingError, match=re.escape("symlink 'passwd' points to '/etc/passwd', outside")
    ):
        _zip(src)
    (src / "passwd").unlink()
    (src / "up").symlink_to("../elsewhere")
    with pytest.raises(
        PackagingError, match=re.escape("symlink 'up' points to '../elsewhere', outside")
    ):
        _zip(src)


def test_symlink_leaving_the_base_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "shared.txt").write_text("x")
    (tmp_path / "dist" / "shared.txt").symlink_to("../shared.txt")
    with pytest.raises(
        PackagingError, match=re.escape("symlink 'shared.txt' points to '../shared.txt'")
    ):
        _zip(tmp_path, base_directory="dist")


def test_absolute_symlink_inside_the_tree_is_stored_relative(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "target.txt").write_text("t")
    (tmp_path / "link").symlink_to(tmp_path / "a" / "target.txt")
    _, archive = _zip(tmp_path)
    assert archive.read("link") == b"a/target.txt"


def test_follow_symlinks_archives_what_links_point_to(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.txt").write_text("shared")
    src = tmp_path / "src"
    src.mkdir()
    (src / "shared").symlink_to(outside)
    summary, archive = _zip(src, follow_symlinks=True)
    assert archive.read("shared/shared.txt") == b"shared"
    assert summary.symlinks == 0


def test_follow_symlinks_refuses_a_loop(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "back").symlink_to("..")
    with pytest.raises(PackagingError, match="symlink 'a/back' leads back"):
        _zip(tmp_path, follow_symlinks=True)


def test_discard_paths_refuses_symlinks(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").symlink_to("a.txt")
    with pytest.raises(
        PackagingError, match=re.escape("symlink 'b.txt' cannot be kept with discard_paths")
    ):
        _zip(tmp_path, discard_paths=True)
    _, archive = _zip(tmp_path, discard_paths=True, follow_symlinks=True)
    assert archive.read("b.txt") == b"a"


def test_special_files_are_skipped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    os.mkfifo(tmp_path / "pipe")
    summary, archive = _zip(tmp_path)
    assert archive.namelist() == ["a.txt"]
    assert summary.skipped == ("pipe",)


def test_archive_written_inside_the_tree_does_not_include_itself(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with (tmp_path / "out.zip").open("wb") as dest:
        zip_directory(tmp_path, dest)
    assert zipfile.ZipFile(tmp_path / "out.zip").namelist() == ["a.txt"]


def test_writes_to_a_stream_that_cannot_seek(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a" * 100_000)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, chunk: Any) -> int:
            self.data += chunk
            return len(chunk)

    pipe = Pipe()
    zip_directory(tmp_path / "src", pipe)  # type: ignore[arg-type]
    summary = extract_zip(io.BytesIO(bytes(pipe.data)), tmp_path / "out", max_total_bytes=LIMIT)
    assert summary.bytes == 100_000


def test_large_file_is_zipped_and_extracted_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, guarded: type
) -> None:
    """A 200 MB file never passes through memory whole, in either direction."""
    size = 200 * 1024 * 1024
    src = tmp_path / "src"
    src.mkdir()
    with (src / "big.bin").open("wb") as big:
        big.truncate(size)  # sparse: no disk used for the source
    real_open = zipping_module._open_source
    monkeypatch.setattr(
        zipping_module, "_open_source", lambda path, follow: guarded(real_open(path, follow))
    )
    archive_path = tmp_path / "big.zip"
    with archive_path.open("wb") as dest:
        summary = zip_directory(src, dest)
    assert summary.bytes == size
    assert archive_path.stat().st_size < size // 100
    with archive_path.open("rb") as raw:
        reader = guarded(raw)
        extracted = extract_zip(reader, tmp_path / "out", max_total_bytes=LIMIT)
    assert extracted.bytes == size
    assert (tmp_path / "out" / "big.bin").stat().st_size == size

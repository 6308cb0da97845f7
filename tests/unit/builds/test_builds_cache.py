"""``cache.paths``: kept per project between builds, mapped safely under the cache directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.builds import (
    CacheError,
    CacheSpec,
    Status,
    project_cache_dir,
    restore_cache,
    save_cache,
)
from tests.unit.builds.conftest import RunSpec

CACHED_BUILD = """
version: 0.2
phases:
  build:
    commands:
      - 'if [ -f deps/lib.txt ]; then echo "restored $(cat deps/lib.txt)"; else echo cold; fi'
      - 'if [ -f "$M2/repo/a.jar" ]; then echo "m2 $(cat "$M2/repo/a.jar")"; fi'
      - mkdir -p deps "$M2/repo" && echo v1 > deps/lib.txt && echo jar > "$M2/repo/a.jar"
      - echo not-cached > other.txt
cache:
  paths:
    - 'deps/**/*'
    - '/root/.m2/**/*'
"""


def test_the_cache_survives_between_two_builds(run_spec: RunSpec, tmp_path: Path) -> None:
    fs_root = tmp_path / "machine"
    cache_dir = project_cache_dir(tmp_path / "caches", "demo")
    env = {"M2": str(fs_root / "root" / ".m2")}
    first_src, second_src = tmp_path / "one", tmp_path / "two"
    first_src.mkdir()
    second_src.mkdir()
    first = run_spec(
        CACHED_BUILD,
        primary_source=first_src,
        cache_dir=cache_dir,
        cache_fs_root=fs_root,
        env=env,
    )
    assert first.result.status is Status.SUCCEEDED
    assert first.output == ["cold"]
    # Absolute paths are kept under the cache directory, never outside it.
    assert (cache_dir / "root" / "root" / ".m2" / "repo" / "a.jar").is_file()
    assert (cache_dir / "src" / "deps" / "lib.txt").is_file()
    assert not (cache_dir / "src" / "other.txt").exists()

    (fs_root / "root" / ".m2" / "repo" / "a.jar").unlink()  # a fresh machine
    second = run_spec(
        CACHED_BUILD,
        primary_source=second_src,
        cache_dir=cache_dir,
        cache_fs_root=fs_root,
        env=env,
    )
    assert second.output == ["restored v1", "m2 jar"]


def test_a_failed_build_does_not_replace_the_cache(run_spec: RunSpec, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    text = """
    version: 0.2
    phases:
      build:
        commands:
          - mkdir -p deps && echo {value} > deps/v.txt
          - {last}
    cache:
      paths: ['deps/**/*']
    """
    ok = run_spec(text.format(value="good", last="true"), cache_dir=cache_dir)
    assert ok.result.status is Status.SUCCEEDED
    bad = run_spec(text.format(value="bad", last="false"), cache_dir=cache_dir)
    assert bad.result.status is Status.FAILED
    assert (cache_dir / "src" / "deps" / "v.txt").read_text() == "good\n"


def test_save_replaces_the_previous_cache_and_restore_overwrites(tmp_path: Path) -> None:
    source, cache_dir = tmp_path / "src", tmp_path / "cache"
    (source / "node_modules" / "a").mkdir(parents=True)
    (source / "node_modules" / "a" / "index.js").write_text("new")
    (source / "single.bin").write_text("one file")
    spec = CacheSpec(paths=("node_modules", "single.bin"))
    (cache_dir / "src").mkdir(parents=True)
    (cache_dir / "src" / "stale.txt").write_text("old")
    assert save_cache(spec, cache_dir=cache_dir, source_dir=source) == 2
    assert not (cache_dir / "src" / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cache")] == []

    (source / "node_modules" / "a" / "index.js").write_text("changed by the checkout")
    assert restore_cache(cache_dir, source_dir=source) == 2
    assert (source / "node_modules" / "a" / "index.js").read_text() == "new"


def test_cache_action_restore_or_save_only() -> None:
    assert not CacheSpec(paths=("x",), action="restore").saves
    assert not CacheSpec(paths=("x",), action="save").restores


@pytest.mark.parametrize("pattern", ["/", "../up/**/*", "/a/../../etc/passwd"])
def test_cache_paths_cannot_leave_their_tree(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(CacheError):
        save_cache(
            CacheSpec(paths=(pattern,)),
            cache_dir=tmp_path / "cache",
            source_dir=tmp_path,
            fs_root=tmp_path,
        )


def test_project_names_are_checked_before_naming_a_directory(tmp_path: Path) -> None:
    assert project_cache_dir(tmp_path, "my_project-1") == tmp_path / "my_project-1"
    with pytest.raises(CacheError):
        project_cache_dir(tmp_path, "../escape")

"""Choosing artifact files as the buildspec's ``artifacts`` section describes."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from stageline.builds import (
    ArtifactError,
    ArtifactSpec,
    PhaseType,
    Status,
    copy_files,
    parse_buildspec,
    select_files,
)
from tests.unit.builds.conftest import RunSpec


def tree(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def spec(text: str) -> ArtifactSpec:
    parsed = parse_buildspec("version: 0.2\nphases: {}\n" + textwrap.dedent(text))
    assert parsed.artifacts is not None
    return parsed.artifacts


def names(source: Path, artifact: ArtifactSpec) -> list[str]:
    return [f.archive_path for f in select_files(source, artifact)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    tree(
        root,
        "README.md",
        "app.jar",
        "target/app-1.0.jar",
        "target/classes/A.class",
        "target/classes/sub/B.class",
        "target/tmp/scratch.tmp",
        ".hidden/config",
    )
    return root


def test_globs_select_files_relative_to_the_source(project: Path) -> None:
    assert names(project, spec("artifacts:\n  files: ['*.jar']\n")) == ["app.jar"]
    assert names(project, spec("artifacts:\n  files: ['target/**/*']\n")) == [
        "target/app-1.0.jar",
        "target/classes/A.class",
        "target/classes/sub/B.class",
        "target/tmp/scratch.tmp",
    ]
    everything = names(project, spec("artifacts:\n  files: ['**/*']\n"))
    assert ".hidden/config" in everything and len(everything) == 7


def test_base_directory_makes_paths_relative_to_it(project: Path) -> None:
    artifact = spec("artifacts:\n  files: ['**/*']\n  base-directory: target/classes\n")
    assert names(project, artifact) == ["A.class", "sub/B.class"]


def test_base_directory_can_be_a_glob_of_directories(tmp_path: Path) -> None:
    root = tmp_path / "src"
    tree(root, "my-build-1/my-file-1.txt", "my-build-2/my-file-2.txt", "my-build-2/sub/f3.txt")
    artifact = spec(
        "artifacts:\n  files: ['**/*']\n  base-directory: 'my-build*'\n  discard-paths: yes\n"
    )
    assert names(root, artifact) == ["f3.txt", "my-file-1.txt", "my-file-2.txt"]


def test_discard_paths_flattens_and_refuses_collisions(project: Path) -> None:
    flat = spec("artifacts:\n  files: ['target/classes/**/*']\n  discard-paths: yes\n")
    assert names(project, flat) == ["A.class", "B.class"]
    tree(project, "target/classes/other/A.class")
    with pytest.raises(ArtifactError, match="discard-paths: yes puts both"):
        select_files(project, flat)


def test_exclude_paths_leave_files_out(project: Path) -> None:
    artifact = spec(
        "artifacts:\n  files: ['**/*']\n  base-directory: target\n"
        "  exclude-paths: ['**/*.tmp', 'classes/sub/**/*']\n"
    )
    assert names(project, artifact) == ["app-1.0.jar", "classes/A.class"]
    dot = spec("artifacts:\n  files: ['**/*']\n  exclude-paths: ['.*/**/*']\n")
    assert ".hidden/config" not in names(project, dot)


def test_nothing_matching_is_codebuilds_client_error(project: Path) -> None:
    with pytest.raises(ArtifactError, match=r"^no matching artifact paths found$") as caught:
        select_files(project, spec("artifacts:\n  files: ['*.war']\n"))
    assert caught.value.status_code == "CLIENT_ERROR"


def test_a_missing_base_directory_is_an_error(project: Path) -> None:
    artifact = spec("artifacts:\n  files: ['**/*']\n  base-directory: dist\n")
    with pytest.raises(ArtifactError, match="no matching base directory path found for dist"):
        select_files(project, artifact)


def test_symlinks_are_kept_only_when_enabled_and_internal(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("outside")
    os.symlink("app.jar", project / "link.jar")
    os.symlink(str(outside), project / "external.txt")
    os.symlink("missing", project / "dangling")
    kept = select_files(project, spec("artifacts:\n  files: ['*']\n  enable-symlinks: yes\n"))
    by_name = {f.archive_path: f for f in kept}
    assert by_name["link.jar"].link_target == "app.jar"
    assert by_name["external.txt"].link_target is None  # outside: its content is taken
    assert "dangling" not in by_name
    followed = select_files(project, spec("artifacts:\n  files: ['*']\n"))
    assert all(f.link_target is None for f in followed)
    out = tmp_path / "out"
    copy_files(kept, out)
    assert os.readlink(out / "link.jar") == "app.jar"
    assert (out / "external.txt").read_text() == "outside"


def test_a_build_copies_its_primary_and_secondary_artifacts(
    run_spec: RunSpec, source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "artifacts"
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - mkdir -p target/classes docs/api
              - echo jar > target/app.jar
              - echo class > target/classes/A.class
              - echo doc > docs/api/index.html
        artifacts:
          files: ['**/*']
          base-directory: target
          exclude-paths: ['classes/**/*']
          name: app-$CODEBUILD_BUILD_NUMBER
          secondary-artifacts:
            docs:
              files: ['docs/**/*']
              discard-paths: yes
        """,
        artifacts_dir=out,
    )
    assert ran.result.status is Status.SUCCEEDED
    primary, docs = ran.result.artifacts
    assert (primary.identifier, primary.name, primary.files) == (None, "app-1", 1)
    assert (out / "primary" / "app.jar").read_text() == "jar\n"
    assert not (out / "primary" / "classes").exists()
    assert docs.identifier == "docs" and docs.directory == out / "secondary" / "docs"
    assert (docs.directory / "index.html").read_text() == "doc\n"


def test_a_build_without_matching_artifacts_fails_upload(run_spec: RunSpec, tmp_path: Path) -> None:
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands: [echo nothing]
        artifacts:
          files: ['dist/**/*']
        """,
        artifacts_dir=tmp_path / "artifacts",
    )
    assert ran.result.status is Status.FAILED
    upload = ran.result.phase(PhaseType.UPLOAD_ARTIFACTS)
    assert upload is not None and upload.status is Status.FAILED
    assert str(upload.contexts[0]) == "CLIENT_ERROR: no matching artifact paths found"

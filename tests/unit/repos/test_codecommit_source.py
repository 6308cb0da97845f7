"""The CodeCommit source action over hosted repositories, with real git."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext
from stageline.providers.source.codecommit import CodeCommitSource
from stageline.repos import RepositoryService
from tests.support.jobs import source_context
from tests.unit.repos.conftest import WorkingCopy

Clone = Callable[[str], WorkingCopy]
KEY = ActionTypeKey(category="Source", owner="AWS", provider="CodeCommit", version="1")


def job(
    tmp_path: Path,
    config: dict[str, str],
    *,
    source_revision: str | None = None,
    outputs: tuple[str, ...] = ("SourceOut",),
) -> JobContext:
    workspace = tmp_path / "workspace"
    out_dirs = {name: workspace / "out" / name for name in outputs}
    for path in out_dirs.values():
        path.mkdir(parents=True)
    lines: list[str] = []
    return JobContext(
        job_id="job-1",
        action_type=KEY,
        configuration=config,
        pipeline=source_context(),
        workspace=workspace,
        inputs={},
        outputs=out_dirs,
        log=lines.append,
        source_revision=source_revision,
    )


@pytest.fixture
def app_repo(repos: RepositoryService, clone: Clone) -> tuple[str, str]:
    """The repository 'app' with two commits on main; (first, second) commit ids."""
    repos.create("app")
    wc = clone("app")
    wc.write("buildspec.yml", "version: 0.2\n")
    wc.write("app.txt", "v1\n")
    first = wc.commit("First version", date="1700000000 +0000")
    wc.write("app.txt", "v2\n")
    second = wc.commit("Second version\n\nWith details.", date="1700000500 +0100")
    wc.push()
    return first, second


def test_key_is_the_aws_action_type(repos: RepositoryService) -> None:
    assert CodeCommitSource(repos).key == KEY


def test_code_zip_exports_the_branch_tip_with_aws_variables(
    repos: RepositoryService, app_repo: tuple[str, str], tmp_path: Path
) -> None:
    _, second = app_repo
    ctx = job(tmp_path, {"RepositoryName": "app", "BranchName": "main"})
    result = CodeCommitSource(repos).run(ctx)
    assert result.succeeded, result.message
    out = ctx.outputs["SourceOut"]
    assert sorted(p.name for p in out.iterdir()) == ["app.txt", "buildspec.yml"]
    assert (out / "app.txt").read_text() == "v2\n"
    assert dict(result.output_variables) == {
        "CommitId": second,
        "BranchName": "main",
        "CommitMessage": "Second version\n\nWith details.",
        "AuthorDate": "2023-11-14T22:21:40Z",
        "CommitterDate": "2023-11-14T22:21:40Z",
        "RepositoryName": "app",
    }
    assert result.revision is not None
    assert result.revision.revision_id == second
    assert result.revision.summary == "Second version\n\nWith details."
    assert result.revision.created_ms == 1_700_000_500_000
    assert dict(result.artifact_revisions) == {"SourceOut": second}
    assert result.external_execution_id == second


def test_a_pinned_source_revision_wins_over_the_branch_tip(
    repos: RepositoryService, app_repo: tuple[str, str], tmp_path: Path
) -> None:
    first, _ = app_repo
    ctx = job(tmp_path, {"RepositoryName": "app", "BranchName": "main"}, source_revision=first)
    result = CodeCommitSource(repos).run(ctx)
    assert result.succeeded, result.message
    assert (ctx.outputs["SourceOut"] / "app.txt").read_text() == "v1\n"
    assert result.output_variables["CommitId"] == first
    assert result.output_variables["CommitMessage"] == "First version"


def test_codebuild_clone_ref_outputs_a_full_clone(
    repos: RepositoryService, app_repo: tuple[str, str], tmp_path: Path, clone: Clone
) -> None:
    first, second = app_repo
    repos.base_url = "http://127.0.0.1:8787"
    ctx = job(
        tmp_path,
        {
            "RepositoryName": "app",
            "BranchName": "main",
            "OutputArtifactFormat": "CODEBUILD_CLONE_REF",
        },
    )
    result = CodeCommitSource(repos).run(ctx)
    assert result.succeeded, result.message
    out = ctx.outputs["SourceOut"]
    local = WorkingCopy(out, clone("app").env)
    assert local.git("rev-parse", "HEAD") == second
    assert local.git("symbolic-ref", "--short", "HEAD") == "main"
    assert local.git("log", "--format=%H") == f"{second}\n{first}"  # full history
    assert local.git("remote", "get-url", "origin") == "http://127.0.0.1:8787/git/app"
    assert dict(result.artifact_revisions) == {"SourceOut": second}


def test_unknown_repository_is_a_configuration_error(
    repos: RepositoryService, tmp_path: Path
) -> None:
    result = CodeCommitSource(repos).run(
        job(tmp_path, {"RepositoryName": "nope", "BranchName": "main"})
    )
    assert not result.succeeded
    assert result.failure_type == "ConfigurationError"
    assert result.message is not None and "repository 'nope' does not exist" in result.message


def test_unknown_branch_lists_the_branches(
    repos: RepositoryService, app_repo: tuple[str, str], tmp_path: Path
) -> None:
    result = CodeCommitSource(repos).run(
        job(tmp_path, {"RepositoryName": "app", "BranchName": "release"})
    )
    assert not result.succeeded
    assert result.failure_type == "ConfigurationError"
    assert result.message == "repository 'app' has no branch 'release'; its branches are: main"


def test_empty_repository_says_where_to_push(repos: RepositoryService, tmp_path: Path) -> None:
    repos.create("fresh")
    repos.base_url = "http://127.0.0.1:8787"
    result = CodeCommitSource(repos).run(
        job(tmp_path, {"RepositoryName": "fresh", "BranchName": "main"})
    )
    assert not result.succeeded
    assert result.message == (
        "repository 'fresh' has no commits yet; push to http://127.0.0.1:8787/git/fresh first"
    )


def test_unknown_pinned_revision_is_revision_unavailable(
    repos: RepositoryService, app_repo: tuple[str, str], tmp_path: Path
) -> None:
    result = CodeCommitSource(repos).run(
        job(tmp_path, {"RepositoryName": "app", "BranchName": "main"}, source_revision="f" * 40)
    )
    assert not result.succeeded
    assert result.failure_type == "RevisionUnavailable"
    assert "has no commit" in (result.message or "")


@pytest.mark.parametrize(
    ("config", "outputs", "expected"),
    [
        ({"BranchName": "main"}, ("Out",), "RepositoryName is required"),
        ({"RepositoryName": "app"}, ("Out",), "BranchName is required"),
        (
            {"RepositoryName": "app", "BranchName": "main", "OutputArtifactFormat": "TAR"},
            ("Out",),
            "OutputArtifactFormat 'TAR' is not valid",
        ),
        ({"RepositoryName": "app", "BranchName": "main"}, ("A", "B"), "exactly 1 output"),
        ({"RepositoryName": "../etc", "BranchName": "main"}, ("Out",), "is not valid"),
    ],
)
def test_bad_configuration_fails_clearly(
    repos: RepositoryService,
    tmp_path: Path,
    config: dict[str, str],
    outputs: tuple[str, ...],
    expected: str,
) -> None:
    result = CodeCommitSource(repos).run(job(tmp_path, config, outputs=outputs))
    assert not result.succeeded
    assert result.failure_type == "ConfigurationError"
    assert expected in (result.message or "")


def test_a_hostile_repository_cannot_escape_the_output(
    repos: RepositoryService, clone: Clone, tmp_path: Path
) -> None:
    repos.create("evil")
    wc = clone("evil")
    os.symlink("/etc", wc.path / "etc")
    wc.commit("link out")
    wc.push()
    for output_format in ("CODE_ZIP", "CODEBUILD_CLONE_REF"):
        ctx = job(
            tmp_path / output_format,
            {"RepositoryName": "evil", "BranchName": "main", "OutputArtifactFormat": output_format},
        )
        result = CodeCommitSource(repos).run(ctx)
        assert not result.succeeded
        assert "points outside the output directory" in (result.message or "") or (
            "outside the output directory" in (result.message or "")
        )

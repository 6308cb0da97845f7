"""The CodeStarSourceConnection source action through real connections and real git remotes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.arns import Arns
from stageline.clock import ManualClock
from stageline.connections import ConnectionService, names
from stageline.definitions.catalog import ActionTypeKey
from stageline.providers.base import JobContext
from stageline.providers.source.connection import ConnectionSource
from stageline.secrets import SecretStore
from stageline.services.context import ServiceContext
from stageline.store import migrate
from stageline.store.db import Database
from tests.support.git import GitClient
from tests.support.jobs import source_context
from tests.unit.connections.remotes import RemoteRepos, auth_git_server

KEY = ActionTypeKey(
    category="Source", owner="AWS", provider="CodeStarSourceConnection", version="1"
)


def job(
    tmp_path: Path,
    config: dict[str, str],
    *,
    source_revision: str | None = None,
    name: str = "job",
) -> JobContext:
    workspace = tmp_path / name
    out = workspace / "out" / "SourceOut"
    out.mkdir(parents=True)
    lines: list[str] = []
    return JobContext(
        job_id=name,
        action_type=KEY,
        configuration=config,
        pipeline=source_context(),
        workspace=workspace,
        inputs={},
        outputs={"SourceOut": out},
        log=lines.append,
        source_revision=source_revision,
    )


@pytest.fixture
def remotes(tmp_path: Path) -> RemoteRepos:
    remotes = RemoteRepos(tmp_path / "remote", GitClient(tmp_path / "git-home"))
    remotes.root.mkdir(parents=True)
    return remotes


@pytest.fixture
def services(
    tmp_path: Path, remotes: RemoteRepos
) -> Iterator[tuple[ConnectionService, SecretStore]]:
    db = Database(f"sqlite:///{tmp_path / 'test.db'}")
    migrate.upgrade(db)
    ctx = ServiceContext(
        db=db, clock=ManualClock(), arns=Arns(region="eu-west-1", account_id="111122223333")
    )
    secrets = SecretStore.open(ctx, tmp_path / "data", environ={})
    yield ConnectionService(ctx, secrets=secrets, github_url=remotes.url), secrets
    db.dispose()


@pytest.fixture
def connections(services: tuple[ConnectionService, SecretStore]) -> ConnectionService:
    return services[0]


@pytest.fixture
def source(connections: ConnectionService, tmp_path: Path) -> ConnectionSource:
    return ConnectionSource(connections, data_dir=tmp_path / "data")


@pytest.fixture
def app(remotes: RemoteRepos) -> list[str]:
    remotes.create("acme/app")
    return [
        remotes.commit("acme/app", {"app.txt": "v1\n"}, "First", date="1700000000 +0000"),
        remotes.commit(
            "acme/app", {"app.txt": "v2\n", "docs/x.md": "x\n"}, "Second\n\nMore.",
            date="1700000500 +0100",
        ),
    ]  # fmt: skip


def config(arn: str, **extra: str) -> dict[str, str]:
    return {"ConnectionArn": arn, "FullRepositoryId": "acme/app", "BranchName": "main", **extra}


def test_key_is_the_aws_action_type(source: ConnectionSource) -> None:
    assert source.key == KEY


def test_code_zip_through_either_arn_form(
    source: ConnectionSource, connections: ConnectionService, app: list[str], tmp_path: Path
) -> None:
    made = connections.create_connection("gh", provider_type="GitHub")
    for form in ("codestar-connections", "codeconnections"):
        arn = names.in_service(made.arn, form)
        ctx = job(tmp_path, config(arn), name=form)
        result = source.run(ctx)
        assert result.succeeded, result.message
        out = ctx.outputs["SourceOut"]
        assert (out / "app.txt").read_text() == "v2\n"
        assert (out / "docs" / "x.md").is_file()
        assert dict(result.output_variables) == {
            "AuthorDate": "2023-11-14T22:21:40Z",
            "BranchName": "main",
            "CommitId": app[1],
            "CommitMessage": "Second\n\nMore.",
            "ConnectionArn": arn,
            "FullRepositoryName": "acme/app",
        }
        assert result.summary == "Second\n\nMore."
        assert result.external_execution_id == app[1]
        assert result.revision is not None and result.revision.revision_id == app[1]
        assert result.revision.created_ms == 1_700_000_500_000
        assert dict(result.artifact_revisions) == {"SourceOut": app[1]}


def test_pinned_revision_and_clone_ref(
    source: ConnectionSource,
    connections: ConnectionService,
    remotes: RemoteRepos,
    app: list[str],
    tmp_path: Path,
) -> None:
    arn = connections.create_connection("gh", provider_type="GitHub").arn
    pinned = source.run(job(tmp_path, config(arn), source_revision=app[0], name="pinned"))
    assert pinned.succeeded, pinned.message
    assert pinned.output_variables["CommitId"] == app[0]
    ctx = job(tmp_path, config(arn, OutputArtifactFormat="CODEBUILD_CLONE_REF"), name="clone")
    result = source.run(ctx)
    assert result.succeeded, result.message
    git = GitClient(tmp_path / "client")
    out = ctx.outputs["SourceOut"]
    assert git.ok("log", "--format=%H", cwd=out).split() == [app[1], app[0]]
    assert git.ok("remote", "get-url", "origin", cwd=out) == f"{remotes.url}/acme/app.git"


def test_configuration_errors_name_the_fix(
    source: ConnectionSource, connections: ConnectionService, app: list[str], tmp_path: Path
) -> None:
    arn = connections.create_connection("gh", provider_type="GitHub").arn
    missing = arn[:-4] + "0000"
    cases = {
        "unknown": (config(missing), "stageline connection list", "ConfigurationError"),
        "hostile": (
            config(arn, FullRepositoryId="acme/../../etc"),
            "FullRepositoryId",
            "ConfigurationError",
        ),
        "no repo": (
            config(arn, FullRepositoryId="acme/none"),
            "FullRepositoryId",
            "ConfigurationError",
        ),
        "format": (config(arn, OutputArtifactFormat="TAR"), "CODE_ZIP", "ConfigurationError"),
        "branch": (config(arn, BranchName="gone"), "branch 'gone'", "RevisionUnavailable"),
        "no arn": (config(""), "ConnectionArn is required", "ConfigurationError"),
    }
    for name, (conf, words, failure_type) in cases.items():
        result = source.run(job(tmp_path, conf, name=name.replace(" ", "-")))
        assert not result.succeeded, name
        assert words in (result.message or ""), (name, result.message)
        assert result.failure_type == failure_type, (name, result.failure_type)


def test_poll_revision_and_changed_files(
    source: ConnectionSource, connections: ConnectionService, remotes: RemoteRepos, app: list[str]
) -> None:
    arn = connections.create_connection("gh", provider_type="GitHub").arn
    assert source.poll_revision(config(arn)) == app[1]
    assert source.poll_revision(config(arn, BranchName="gone")) is None
    third = remotes.commit("acme/app", {"src/main.py": "x\n"}, "Third")
    assert source.poll_revision(config(arn)) == third
    assert source.changed_files(config(arn), app[0], third) == [
        "app.txt",
        "docs/x.md",
        "src/main.py",
    ]
    assert source.changed_files(config(arn), None, third) == ["src/main.py"]
    assert source.changed_files(config(arn), "2" * 40, third) is None


def test_a_host_with_an_http_endpoint_and_a_token(
    services: tuple[ConnectionService, SecretStore],
    source: ConnectionSource,
    remotes: RemoteRepos,
    app: list[str],
    tmp_path: Path,
) -> None:
    connections, secrets = services
    secrets.secrets.create("ghes-token", value="ghp_0123456789")
    with auth_git_server(remotes.root, "x-access-token", "ghp_0123456789") as (base, _seen):
        host = connections.create_host("ghes", "GitHubEnterpriseServer", base)
        arn = connections.create_connection("ghes", host_arn=host.arn).arn
        conf = config(arn, FullRepositoryId="acme/app.git")
        denied = source.run(job(tmp_path, conf, name="denied"))
        assert not denied.succeeded and denied.failure_type == "PermissionError"
        connections.update_settings("ghes", credentials_secret="ghes-token")
        result = source.run(job(tmp_path, conf, name="allowed"))
    assert result.succeeded, result.message
    assert result.revision is not None
    assert result.revision.url == f"{base}/acme/app.git/commit/{app[1]}"

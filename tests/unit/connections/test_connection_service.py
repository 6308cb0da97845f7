"""Connections and hosts kept in SQLite and PostgreSQL alike, and how they resolve to a remote."""

from __future__ import annotations

import pytest

from stageline.connections import ConnectionService, names
from stageline.connections.errors import ResourceNotFound
from stageline.errors import ApiError
from stageline.secrets import SecretStore
from tests.unit.connections.conftest import ACCOUNT, REGION
from tests.unit.connections.remotes import RemoteRepos

PREFIX = f"arn:aws:codestar-connections:{REGION}:{ACCOUNT}:"


def test_a_connection_is_available_at_once_under_both_arn_forms(
    service: ConnectionService,
) -> None:
    made = service.create_connection("gh", provider_type="GitHub", tags=[("team", "web")])
    assert made.arn.startswith(PREFIX + "connection/")
    assert made.status == "AVAILABLE"
    assert made.owner_account_id == ACCOUNT
    new_form = names.in_service(made.arn, "codeconnections")
    assert new_form.startswith(f"arn:aws:codeconnections:{REGION}:{ACCOUNT}:connection/")
    assert service.get_connection(new_form) == service.get_connection(made.arn) == made
    assert service.list_tags(new_form) == [("team", "web")]


def test_connection_names_are_unique_and_a_provider_is_required(
    service: ConnectionService,
) -> None:
    service.create_connection("gh", provider_type="GitHub")
    with pytest.raises(ApiError) as exc:
        service.create_connection("gh", provider_type="GitLab")
    assert exc.value.code == "ConflictException"
    with pytest.raises(ApiError, match="give ProviderType"):
        service.create_connection("other")
    with pytest.raises(ApiError, match="needs HostArn: create a host"):
        service.create_connection("ghes", provider_type="GitHubEnterpriseServer")
    assert [c.name for c in service.list_connections()] == ["gh"]


def test_hosts_carry_the_provider_and_cannot_go_while_connections_use_them(
    service: ConnectionService,
) -> None:
    host = service.create_host("My GHES", "GitHubEnterpriseServer", "https://ghes.example.com/")
    assert host.arn.startswith(PREFIX + "host/My-GHES-")
    assert host.provider_endpoint == "https://ghes.example.com"
    assert host.status == "AVAILABLE"
    via_new_arn = service.create_connection(
        "ghes", host_arn=names.in_service(host.arn, "codeconnections")
    )
    assert via_new_arn.provider_type == "GitHubEnterpriseServer"
    assert via_new_arn.host_arn == host.arn
    service.create_connection("gh", provider_type="GitHub")
    assert [c.name for c in service.list_connections(host_arn=host.arn)] == ["ghes"]
    assert [c.name for c in service.list_connections(provider_type="GitHub")] == ["gh"]
    with pytest.raises(ApiError, match="ProviderType GitLabSelfManaged does not match"):
        service.create_connection("x", host_arn=host.arn, provider_type="GitLabSelfManaged")
    with pytest.raises(ApiError, match="used by 1 connection") as exc:
        service.delete_host(host.arn)
    assert exc.value.code == "ResourceUnavailableException"
    service.delete_connection(via_new_arn.arn)
    service.delete_host(host.arn)
    with pytest.raises(ResourceNotFound):
        service.get_host(host.arn)
    assert service.list_hosts() == []


def test_host_rules(service: ConnectionService) -> None:
    with pytest.raises(ApiError, match="must be GitHubEnterpriseServer or GitLabSelfManaged"):
        service.create_host("h", "GitHub", "https://example.com")
    with pytest.raises(ApiError, match="must not hold a user name or password"):
        service.create_host("h", "GitLabSelfManaged", "https://me:secret@gitlab.example.com")
    with pytest.raises(ApiError, match=r"use an https://, http:// or file:// URL"):
        service.create_host("h", "GitLabSelfManaged", "ext::sh -c touch% /tmp/pwned")
    host = service.create_host("h", "GitLabSelfManaged", "https://gitlab.example.com")
    with pytest.raises(ApiError) as exc:
        service.create_host("h", "GitLabSelfManaged", "https://other.example.com")
    assert exc.value.code == "ConflictException"
    moved = service.update_host(host.arn, provider_endpoint="file:///srv/git/")
    assert moved.provider_endpoint == "file:///srv/git"
    assert service.get_host(host.arn).provider_endpoint == "file:///srv/git"


def test_tags_on_connections_and_hosts(service: ConnectionService) -> None:
    made = service.create_connection("gh", provider_type="GitHub")
    service.tag_resource(made.arn, [("a", "1"), ("b", "2")])
    service.tag_resource(made.arn, [("a", "3")])
    service.untag_resource(made.arn, ["b"])
    assert service.list_tags(made.arn) == [("a", "3")]
    with pytest.raises(ApiError) as exc:
        service.tag_resource(made.arn, [(f"k{i}", "v") for i in range(200)])
    assert exc.value.code == "LimitExceededException"
    service.delete_connection(made.arn)
    with pytest.raises(ResourceNotFound):
        service.list_tags(made.arn)
    with pytest.raises(ResourceNotFound, match="not the ARN of a connection or host"):
        service.list_tags("arn:aws:codepipeline:eu-west-1:111122223333:p")


def test_where_connections_fetch_from(service: ConnectionService, remotes: RemoteRepos) -> None:
    github = service.create_connection("gh", provider_type="GitHub")
    gitlab = service.create_connection("gl", provider_type="GitLab")
    bitbucket = service.create_connection("bb", provider_type="Bitbucket")
    host = service.create_host("own", "GitLabSelfManaged", "http://git.example.internal:8080")
    own = service.create_connection("own", host_arn=host.arn)
    assert service.resolve(github.arn, "o/r").url == f"{remotes.url}/o/r"
    assert service.resolve(gitlab.arn, "group/sub/repo").url == "https://gitlab.com/group/sub/repo"
    remote = service.resolve(bitbucket.arn, "team/app")
    assert remote.url == "https://bitbucket.org/team/app"
    assert remote.web_url == "https://bitbucket.org/team/app"
    assert service.resolve(own.arn, "a/b").url == "http://git.example.internal:8080/a/b"
    service.update_settings("gl", endpoint="https://mirror.example.com/gitlab/")
    assert service.resolve(gitlab.arn, "a/b").url == "https://mirror.example.com/gitlab/a/b"
    service.update_settings("gl", endpoint="")
    assert service.resolve(gitlab.arn, "a/b").url == "https://gitlab.com/a/b"


def test_file_urls_find_bare_repositories_with_or_without_git(
    service: ConnectionService, remotes: RemoteRepos
) -> None:
    github = service.create_connection("gh", provider_type="GitHub")
    remotes.create("acme/app")
    remotes.create("acme/plain", suffix="")
    assert service.resolve(github.arn, "acme/app").url == f"{remotes.url}/acme/app.git"
    assert service.resolve(github.arn, "acme/plain").url == f"{remotes.url}/acme/plain"
    assert service.resolve(github.arn, "acme/app").web_url is None


def test_credentials_come_from_the_named_secret(
    service: ConnectionService, secrets: SecretStore
) -> None:
    gitlab = service.create_connection("gl", provider_type="GitLab")
    assert service.resolve(gitlab.arn, "a/b").credentials is None
    with pytest.raises(ApiError, match="secret 'gl-token' does not exist"):
        service.update_settings("gl", credentials_secret="gl-token")
    secrets.secrets.create("gl-token", value="glpat-123\n")
    service.update_settings(gitlab.arn, credentials_secret="gl-token")
    credentials = service.resolve(gitlab.arn, "a/b").credentials
    assert credentials is not None
    assert (credentials.username, credentials.password) == ("oauth2", "glpat-123")
    assert "glpat" not in repr(credentials) and "glpat" not in repr(
        service.resolve(gitlab.arn, "a/b")
    )
    secrets.secrets.put_value("gl-token", "deploy-user:tok:en")
    credentials = service.resolve(gitlab.arn, "a/b").credentials
    assert credentials is not None
    assert (credentials.username, credentials.password) == ("deploy-user", "tok:en")
    bitbucket = service.create_connection("bb", provider_type="Bitbucket")
    service.update_settings("bb", credentials_secret="gl-token")
    secrets.secrets.put_value("gl-token", "just-a-token")
    credentials = service.resolve(bitbucket.arn, "a/b").credentials
    assert credentials is not None and credentials.username == "x-token-auth"


def test_resolve_errors_name_the_fix(service: ConnectionService) -> None:
    missing = f"{PREFIX}connection/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ResourceNotFound) as exc:
        service.resolve(missing, "a/b")
    assert missing in exc.value.message and "stageline connection list" in exc.value.message
    with pytest.raises(ResourceNotFound, match="is not a connection ARN"):
        service.resolve("my-connection", "a/b")
    made = service.create_connection("gh", provider_type="GitHub")
    for hostile in (
        "../../etc",
        "a/..",
        "a/../../b",
        "-u/x",
        "owner/--upload-pack=touch",
        "lonely",
        "a/b c",
        "a/b;rm",
        "a//b",
        "/a/b",
        "a/b\n",
        "",
    ):
        with pytest.raises(ApiError, match="FullRepositoryId") as refused:
            service.resolve(made.arn, hostile)
        assert refused.value.code == "ValidationException"


def test_settings_by_name_or_arn(service: ConnectionService) -> None:
    made = service.create_connection("gh", provider_type="GitHub")
    with pytest.raises(ResourceNotFound, match="no connection is named 'nope'"):
        service.update_settings("nope", endpoint="https://example.com")
    changed = service.update_settings(
        names.in_service(made.arn, "codeconnections"), endpoint="https://ghe.example.com"
    )
    assert changed.endpoint == "https://ghe.example.com"
    assert service.fetches_from(service.get_connection(made.arn)) == "https://ghe.example.com"
    with pytest.raises(ApiError, match="must not hold a user name"):
        service.update_settings("gh", endpoint="https://u:p@example.com")
    assert service.get_connection(made.arn).endpoint == "https://ghe.example.com"

"""``Source/ThirdParty/GitHub/1``: the legacy GitHub action, authenticated with a token.

As on AWS: ``Owner``/``Repo``/``Branch`` name the repository and branch, and
``OAuthToken`` (a personal access token; read back as ``****``) reads it. The
repository is ``<github url>/<Owner>/<Repo>``, where the GitHub URL is the
server's ``--github-url``: https://github.com by default, a GitHub Enterprise
Server, a mirror, or a ``file://`` directory of ``OWNER/REPO(.git)``
repositories (where no token is needed or sent). The output is the commit's
files, as the version 1 action only ever produced. The variables are AWS's:
AuthorDate, BranchName, CommitId, CommitMessage, CommitterDate, CommitUrl
(GitHub's API URL of the commit) and RepositoryName.
``PollForSourceChanges`` is for the poller, not for a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from stageline.connections.git import RemoteGit, repository_url
from stageline.connections.model import Credentials, RemoteRepository
from stageline.connections.names import check_endpoint, check_name_segment
from stageline.definitions.catalog import ActionTypeKey
from stageline.errors import ApiError
from stageline.providers.base import JobContext, JobResult
from stageline.providers.source.codecommit import CODE_ZIP
from stageline.providers.source.connection import (
    changed_files,
    failed,
    format_problem,
    succeeded,
    take_commit,
)

# What GetPipeline shows for the token: a declaration read back and saved again carries it.
MASKED = "****"
TOKEN_USERNAME = "x-access-token"


class GitHubSource:
    """The GitHub (version 1) source action against the server's GitHub URL."""

    key = ActionTypeKey(category="Source", owner="ThirdParty", provider="GitHub", version="1")

    def __init__(self, *, base_url: str, data_dir: Path) -> None:
        self.base_url = check_endpoint(base_url, field="--github-url")
        self.git = RemoteGit(data_dir)

    def run(self, job: JobContext) -> JobResult:
        config = job.configuration
        problem = _configuration_problem(config) or format_problem(
            CODE_ZIP, len(job.outputs), "GitHub"
        )
        if problem:
            return JobResult.failed(problem, failure_type="ConfigurationError")
        branch = config["Branch"]
        try:
            remote = self._remote(config)
            if remote.credentials is None and remote.url.startswith(("https:", "http:")):
                job.log("no OAuthToken given: reading the repository anonymously")
            taken = take_commit(
                self.git,
                remote,
                job,
                branch=branch,
                output_format=CODE_ZIP,
                link=remote.commit_page,
            )
        except ApiError as exc:
            return failed(exc)
        return succeeded(
            taken,
            next(iter(job.outputs)),
            {
                "AuthorDate": taken.info.author_date,
                "BranchName": branch,
                "CommitId": taken.commit,
                "CommitMessage": taken.info.message,
                "CommitterDate": taken.info.committer_date,
                "CommitUrl": self.api_commit_url(config["Owner"], config["Repo"], taken.commit),
                "RepositoryName": config["Repo"],
            },
        )

    def poll_revision(self, configuration: Mapping[str, str]) -> str | None:
        """The commit the action would take now (the branch tip), None if the branch is gone."""
        remote = self._remote(configuration)
        return self.git.ls_remote_branch(
            remote.url, configuration.get("Branch") or "", remote.credentials
        )

    def changed_files(
        self, configuration: Mapping[str, str], old: str | None, new: str
    ) -> list[str] | None:
        """Paths changed from ``old`` to ``new`` (trigger file-path filters); None if unknown."""
        remote = self._remote(configuration)
        return changed_files(self.git, remote, configuration.get("Branch") or "", old, new)

    def api_commit_url(self, owner: str, repo: str, commit: str) -> str:
        """GitHub's API URL of a commit: api.github.com, or /api/v3 of an Enterprise Server."""
        parts = urlsplit(self.base_url)
        path = f"repos/{owner}/{repo}/git/commits/{commit}"
        if parts.scheme == "https" and parts.netloc == "github.com":
            return f"https://api.github.com/{path}"
        if parts.scheme in ("https", "http"):
            return f"{self.base_url}/api/v3/{path}"
        return f"{repository_url(self.base_url, f'{owner}/{repo}')}#{commit}"

    def _remote(self, configuration: Mapping[str, str]) -> RemoteRepository:
        owner = check_name_segment(configuration.get("Owner") or "", field="Owner")
        repo = check_name_segment(configuration.get("Repo") or "", field="Repo")
        url = repository_url(self.base_url, f"{owner}/{repo}")
        web = f"{self.base_url}/{owner}/{repo}" if url.startswith(("https:", "http:")) else None
        token = (configuration.get("OAuthToken") or "").strip()
        credentials = None
        if token and token != MASKED and web is not None:
            credentials = Credentials(TOKEN_USERNAME, token)
        return RemoteRepository(url=url, credentials=credentials, web_url=web)


def _configuration_problem(config: Mapping[str, str]) -> str | None:
    for name, what in (
        ("Owner", "the GitHub user or organization that owns the repository"),
        ("Repo", "the repository's name"),
        ("Branch", "the branch whose commits start the pipeline"),
    ):
        if not config.get(name):
            return f"configuration {name} is required: {what}"
    return None

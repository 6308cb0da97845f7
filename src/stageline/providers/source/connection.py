"""``Source/AWS/CodeStarSourceConnection/1``: a commit of a repository reached through a connection.

As on AWS: the commit is the revision pinned at start (``job.source_revision``),
else the tip of ``BranchName`` of ``FullRepositoryId``; ``OutputArtifactFormat``
``CODE_ZIP`` (default) writes the commit's files, ``CODEBUILD_CLONE_REF`` a full
git clone checked out at that commit whose ``origin`` is the repository's URL
(on AWS the artifact is a reference CodeBuild clones with the connection; here
the clone is made at once, so any later action can use it, and its ``origin``
carries no credentials). The variables are AWS's: AuthorDate, BranchName,
CommitId, CommitMessage, ConnectionArn, FullRepositoryName; the revision
summary is the commit message and the external execution id the commit id.
``DetectChanges`` is for the poller, not for a run.

The connection says where the repository is and which token reads it
(connections/service.py); git itself runs against a local mirror
(connections/git.py). The shared steps live here for the GitHub (version 1)
action too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from stageline.connections.errors import RemoteGitError
from stageline.connections.git import RemoteGit
from stageline.connections.model import RemoteRepository
from stageline.connections.service import ConnectionService
from stageline.definitions.catalog import ActionTypeKey
from stageline.errors import ApiError
from stageline.providers.base import JobContext, JobResult, SourceRevision
from stageline.providers.source.codecommit import (
    CODE_ZIP,
    CODEBUILD_CLONE_REF,
    FORMATS,
    MAX_REVISION_SUMMARY,
)
from stageline.repos.errors import TreeTooLarge, UnsafeTree
from stageline.repos.model import CommitInfo


@dataclass(frozen=True, kw_only=True)
class TakenCommit:
    """The commit a source action took, and what it knows of it."""

    commit: str
    info: CommitInfo
    url: str | None

    @property
    def summary(self) -> str:
        return self.info.message[:MAX_REVISION_SUMMARY] or self.commit


def take_commit(
    remote_git: RemoteGit,
    remote: RemoteRepository,
    job: JobContext,
    *,
    branch: str,
    output_format: str,
    link: Callable[[str], str | None] = lambda _commit: None,
) -> TakenCommit:
    """Fetch ``branch`` into the mirror, pick the commit and write it into the one output."""
    output_name, output_dir = next(iter(job.outputs.items()))
    tip = remote_git.fetch(remote.url, branch, remote.credentials)
    commit = tip
    if job.source_revision:
        commit = remote_git.ensure_commit(remote.url, job.source_revision, remote.credentials)
    info = remote_git.commit_info(remote.url, commit)
    job.log(f"{remote.url}@{branch}: commit {commit} {info.summary}")
    if output_format == CODEBUILD_CLONE_REF:
        remote_git.clone(remote.url, commit, output_dir, branch=branch)
        job.log(f"cloned {remote.url} at {commit[:12]} into {output_name}")
    else:
        remote_git.export(remote.url, commit, output_dir)
        job.log(f"exported the files of {commit[:12]} into {output_name}")
    return TakenCommit(commit=commit, info=info, url=link(commit))


def failed(exc: ApiError) -> JobResult:
    """A job failure with AWS's FailureType for what went wrong."""
    if isinstance(exc, RemoteGitError):
        return JobResult.failed(exc.message, failure_type=exc.failure_type)
    if isinstance(exc, UnsafeTree | TreeTooLarge):
        return JobResult.failed(exc.message)  # the commit's content, not the configuration
    # Connection, secret and name problems: the action's configuration must change.
    return JobResult.failed(exc.message, failure_type="ConfigurationError")


def succeeded(taken: TakenCommit, output_name: str, variables: Mapping[str, str]) -> JobResult:
    return JobResult(
        succeeded=True,
        summary=taken.summary,
        external_execution_id=taken.commit,
        external_execution_url=taken.url,
        output_variables=dict(variables),
        revision=SourceRevision(
            revision_id=taken.commit,
            summary=taken.summary,
            created_ms=taken.info.committed_ms,
            url=taken.url,
        ),
        artifact_revisions={output_name: taken.commit},
    )


def format_problem(output_format: str, outputs: int, action: str) -> str | None:
    if output_format not in FORMATS:
        return (
            f"configuration OutputArtifactFormat {output_format!r} is not valid; "
            f"use {CODE_ZIP} (the default) or {CODEBUILD_CLONE_REF}"
        )
    if outputs != 1:
        return f"a {action} source action has exactly 1 output artifact; this one has {outputs}"
    return None


class ConnectionSource:
    """The CodeStarSourceConnection source action over stageline's connections."""

    key = ActionTypeKey(
        category="Source", owner="AWS", provider="CodeStarSourceConnection", version="1"
    )

    def __init__(self, connections: ConnectionService, *, data_dir: Path) -> None:
        self.connections = connections
        self.git = RemoteGit(data_dir)

    def run(self, job: JobContext) -> JobResult:
        config = job.configuration
        branch = config.get("BranchName") or ""
        output_format = config.get("OutputArtifactFormat") or CODE_ZIP
        problem = _configuration_problem(config) or format_problem(
            output_format, len(job.outputs), "CodeStarSourceConnection"
        )
        if problem:
            return JobResult.failed(problem, failure_type="ConfigurationError")
        try:
            remote = self._remote(config)
            taken = take_commit(
                self.git,
                remote,
                job,
                branch=branch,
                output_format=output_format,
                link=remote.commit_page,
            )
        except ApiError as exc:
            return failed(exc)
        output_name = next(iter(job.outputs))
        return succeeded(
            taken,
            output_name,
            {
                "AuthorDate": taken.info.author_date,
                "BranchName": branch,
                "CommitId": taken.commit,
                "CommitMessage": taken.info.message,
                "ConnectionArn": config["ConnectionArn"],
                "FullRepositoryName": config["FullRepositoryId"],
            },
        )

    def poll_revision(self, configuration: Mapping[str, str]) -> str | None:
        """The commit the action would take now (the branch tip), None if the branch is gone.

        Raises ApiError (connection or configuration problems) or RemoteGitError
        (the remote), each with a message that names the fix, for the poller to report.
        """
        remote = self._remote(configuration)
        branch = configuration.get("BranchName") or ""
        return self.git.ls_remote_branch(remote.url, branch, remote.credentials)

    def changed_files(
        self, configuration: Mapping[str, str], old: str | None, new: str
    ) -> list[str] | None:
        """Paths changed from ``old`` to ``new`` (trigger file-path filters); None if unknown."""
        remote = self._remote(configuration)
        return changed_files(self.git, remote, configuration.get("BranchName") or "", old, new)

    def _remote(self, configuration: Mapping[str, str]) -> RemoteRepository:
        return self.connections.resolve(
            configuration.get("ConnectionArn") or "", configuration.get("FullRepositoryId") or ""
        )


def changed_files(
    remote_git: RemoteGit, remote: RemoteRepository, branch: str, old: str | None, new: str
) -> list[str] | None:
    """Fetch what is needed and diff; None when ``old`` cannot be had (force-pushed away).

    An all-zero ``old`` (a host's "no previous commit", for a new branch) counts as none.
    """
    if old is not None and set(old) == {"0"}:
        old = None
    if not remote_git.has_commit(remote.url, new):
        remote_git.fetch(remote.url, branch, remote.credentials)
    new = remote_git.ensure_commit(remote.url, new, remote.credentials)
    if old is not None:
        try:
            old = remote_git.ensure_commit(remote.url, old, remote.credentials)
        except RemoteGitError:
            return None
    return remote_git.changed_files(remote.url, old, new)


def _configuration_problem(config: Mapping[str, str]) -> str | None:
    if not config.get("ConnectionArn"):
        return (
            "configuration ConnectionArn is required: the ARN of a connection; list them with "
            "`stageline connection list`"
        )
    if not config.get("FullRepositoryId"):
        return "configuration FullRepositoryId is required: OWNER/REPOSITORY, e.g. my-org/my-app"
    if not config.get("BranchName"):
        return "configuration BranchName is required: the branch whose commits start the pipeline"
    return None

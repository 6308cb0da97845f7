"""``Source/AWS/CodeCommit/1``: a commit of a repository stageline hosts, as the output artifact.

As on AWS: the commit is the revision pinned at start (``job.source_revision``),
else the tip of ``BranchName``; ``OutputArtifactFormat`` ``CODE_ZIP`` (default)
writes the commit's files, ``CODEBUILD_CLONE_REF`` a full git clone checked out
at that commit whose ``origin`` is the server's clone URL, so a later action can
fetch more history. The variables are AWS's: CommitId, BranchName,
CommitMessage, AuthorDate, CommitterDate, RepositoryName; the revision summary
is the commit message and the external execution id the commit id.
``PollForSourceChanges`` is accepted and ignored: pushes start pipelines
through events here.
"""

from __future__ import annotations

from stageline.definitions.catalog import ActionTypeKey
from stageline.errors import ApiError
from stageline.providers.base import JobContext, JobResult, SourceRevision
from stageline.repos import RepositoryService
from stageline.repos.errors import (
    BranchDoesNotExist,
    CommitDoesNotExist,
    EmptyRepository,
    InvalidBranchName,
    InvalidReferenceName,
    InvalidRepositoryName,
    RepositoryDoesNotExist,
)

CODE_ZIP = "CODE_ZIP"
CODEBUILD_CLONE_REF = "CODEBUILD_CLONE_REF"
FORMATS = (CODE_ZIP, CODEBUILD_CLONE_REF)
# CodePipeline's RevisionSummary is at most 2,048 characters.
MAX_REVISION_SUMMARY = 2048

_CONFIGURATION_ERRORS = (
    RepositoryDoesNotExist,
    InvalidRepositoryName,
    InvalidBranchName,
)


class CodeCommitSource:
    """The CodeCommit source action over the repositories a RepositoryService hosts."""

    key = ActionTypeKey(category="Source", owner="AWS", provider="CodeCommit", version="1")

    def __init__(self, repos: RepositoryService) -> None:
        self.repos = repos

    def run(self, job: JobContext) -> JobResult:
        config = job.configuration
        repository = config.get("RepositoryName") or ""
        branch = config.get("BranchName") or ""
        output_format = config.get("OutputArtifactFormat") or CODE_ZIP
        problem = _configuration_problem(repository, branch, output_format, len(job.outputs))
        if problem:
            return JobResult.failed(problem, failure_type="ConfigurationError")
        output_name, output_dir = next(iter(job.outputs.items()))
        try:
            if job.source_revision:
                commit = self.repos.resolve(repository, job.source_revision)
            else:
                commit = self.repos.branch_tip(repository, branch)
            info = self.repos.commit_info(repository, commit)
            job.log(f"{repository}@{branch}: commit {commit} {info.summary}")
            if output_format == CODEBUILD_CLONE_REF:
                self.repos.clone(repository, commit, output_dir, branch=branch)
                job.log(f"cloned {self.repos.clone_url(repository)} at {commit[:12]}")
            else:
                self.repos.export(repository, commit, output_dir)
                job.log(f"exported the files of {commit[:12]} into {output_name}")
        except (EmptyRepository, CommitDoesNotExist, InvalidReferenceName) as exc:
            return JobResult.failed(exc.message, failure_type="RevisionUnavailable")
        except (*_CONFIGURATION_ERRORS, BranchDoesNotExist) as exc:
            return JobResult.failed(exc.message, failure_type="ConfigurationError")
        except ApiError as exc:
            return JobResult.failed(exc.message)
        summary = info.message[:MAX_REVISION_SUMMARY] or info.commit_id
        return JobResult(
            succeeded=True,
            summary=summary,
            external_execution_id=commit,
            output_variables={
                "CommitId": commit,
                "BranchName": branch,
                "CommitMessage": info.message,
                "AuthorDate": info.author_date,
                "CommitterDate": info.committer_date,
                "RepositoryName": repository,
            },
            revision=SourceRevision(
                revision_id=commit, summary=summary, created_ms=info.committed_ms
            ),
            artifact_revisions={output_name: commit},
        )


def _configuration_problem(
    repository: str, branch: str, output_format: str, outputs: int
) -> str | None:
    if not repository:
        return "configuration RepositoryName is required: the repository to take commits from"
    if not branch:
        return "configuration BranchName is required: the branch whose commits start the pipeline"
    if output_format not in FORMATS:
        return (
            f"configuration OutputArtifactFormat {output_format!r} is not valid; "
            f"use {CODE_ZIP} (the default) or {CODEBUILD_CLONE_REF}"
        )
    if outputs != 1:
        return f"a CodeCommit source action has exactly 1 output artifact; this one has {outputs}"
    return None

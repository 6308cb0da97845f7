"""CodeCommit operations over the hosted repositories: wire params in, wire responses out.

Only what a user of a pipeline needs (create, read, list and delete
repositories; read branches and commits), shaped by botocore's ``codecommit``
model so ``boto3.client("codecommit")`` and ``aws codecommit`` work unchanged.
"""

from __future__ import annotations

from typing import Any

from stageline.api.protocol import ServiceEndpoint
from stageline.clock import ms_to_datetime
from stageline.errors import error
from stageline.repos import Repository, RepositoryService
from stageline.repos.errors import BranchDoesNotExist, CommitDoesNotExist
from stageline.repos.names import check_commit_id
from stageline.services import paging

TARGET_PREFIX = "CodeCommit_20150413"
PAGE_SIZE = 1000


def _required(params: dict[str, Any], member: str, code: str, what: str) -> str:
    value = params.get(member)
    if not value:
        raise error(code, f"{what} is required: pass {member}")
    return str(value)


def _page(kind: str, items: list[Any], token: str | None) -> tuple[list[Any], str | None]:
    return paging.offset_page(
        kind, items, token, PAGE_SIZE, bad_token="InvalidContinuationTokenException"
    )


def build_endpoint(repos: RepositoryService) -> ServiceEndpoint:
    endpoint = ServiceEndpoint(service_name="codecommit", target_prefix=TARGET_PREFIX)

    def metadata(repo: Repository) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accountId": repo.account_id,
            "repositoryId": repo.repository_id,
            "repositoryName": repo.name,
            "creationDate": ms_to_datetime(repo.created_ms),
            "lastModifiedDate": ms_to_datetime(repo.last_modified_ms),
            "Arn": repo.arn,
        }
        if repo.description is not None:
            out["repositoryDescription"] = repo.description
        if repo.default_branch:
            out["defaultBranch"] = repo.default_branch
        url = repos.clone_url_http(repo.name)
        if url:
            out["cloneUrlHttp"] = url
        return out

    def repository_name(p: dict[str, Any]) -> str:
        return _required(
            p, "repositoryName", "RepositoryNameRequiredException", "a repository name"
        )

    def create_repository(p: dict[str, Any]) -> dict[str, Any]:
        # tags and kmsKeyId are accepted and not kept: nothing here reads them yet.
        repo = repos.create(repository_name(p), p.get("repositoryDescription"))
        return {"repositoryMetadata": metadata(repo)}

    def get_repository(p: dict[str, Any]) -> dict[str, Any]:
        return {"repositoryMetadata": metadata(repos.get(repository_name(p)))}

    def list_repositories(p: dict[str, Any]) -> dict[str, Any]:
        items = repos.list_repositories()
        if p.get("sortBy") == "lastModifiedDate":
            items.sort(key=lambda r: (r.last_modified_ms, r.name))
        if p.get("order") == "descending":
            items.reverse()
        page, token = _page("repositories", items, p.get("nextToken"))
        out: dict[str, Any] = {
            "repositories": [
                {"repositoryName": r.name, "repositoryId": r.repository_id} for r in page
            ]
        }
        if token:
            out["nextToken"] = token
        return out

    def delete_repository(p: dict[str, Any]) -> dict[str, Any]:
        deleted = repos.delete(repository_name(p))
        return {"repositoryId": deleted.repository_id} if deleted else {}

    def get_branch(p: dict[str, Any]) -> dict[str, Any]:
        name = repository_name(p)
        branch = _required(p, "branchName", "BranchNameRequiredException", "a branch name")
        return {"branch": {"branchName": branch, "commitId": repos.branch_tip(name, branch)}}

    def list_branches(p: dict[str, Any]) -> dict[str, Any]:
        branches = repos.list_branches(repository_name(p))
        page, token = _page("branches", branches, p.get("nextToken"))
        out: dict[str, Any] = {"branches": page}
        if token:
            out["nextToken"] = token
        return out

    def get_commit(p: dict[str, Any]) -> dict[str, Any]:
        name = repository_name(p)
        commit_id = check_commit_id(
            _required(p, "commitId", "CommitIdRequiredException", "a commit id")
        )
        try:
            info = repos.commit_info(name, commit_id)
        except (CommitDoesNotExist, BranchDoesNotExist) as exc:  # an empty repository too
            raise error("CommitIdDoesNotExistException", exc.message) from exc
        return {
            "commit": {
                "commitId": info.commit_id,
                "treeId": info.tree_id,
                "parents": list(info.parents),
                "message": info.message,
                "author": {
                    "name": info.author_name,
                    "email": info.author_email,
                    "date": info.author_timestamp,
                },
                "committer": {
                    "name": info.committer_name,
                    "email": info.committer_email,
                    "date": info.committer_timestamp,
                },
                "additionalData": "",
            }
        }

    endpoint.handlers.update(
        CreateRepository=create_repository,
        GetRepository=get_repository,
        ListRepositories=list_repositories,
        DeleteRepository=delete_repository,
        GetBranch=get_branch,
        ListBranches=list_branches,
        GetCommit=get_commit,
    )
    return endpoint

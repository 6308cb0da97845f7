"""Git repositories hosted by stageline: CodeCommit's model on bare git repositories."""

from stageline.repos.model import CommitInfo, RefUpdate, Repository
from stageline.repos.service import PushHook, RepositoryService

__all__ = ["CommitInfo", "PushHook", "RefUpdate", "Repository", "RepositoryService"]

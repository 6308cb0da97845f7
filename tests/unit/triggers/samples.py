"""Webhook payloads as GitHub, GitLab and Bitbucket Cloud send them (trimmed to what matters,
with the members around it that real deliveries carry)."""

from __future__ import annotations

import copy
from typing import Any

BEFORE = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
AFTER = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
TAG_OBJECT = "c9a1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b"
BASE = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
ZERO = "0" * 40

_GITHUB_USER = {"login": "octocat", "id": 1, "type": "User"}


def github_push(
    ref: str = "refs/heads/main",
    *,
    files: dict[str, list[str]] | None = None,
    before: str = BEFORE,
    after: str = AFTER,
    commits: int = 1,
) -> dict[str, Any]:
    changed = files if files is not None else {"modified": ["src/app.py"]}
    commit = {
        "id": after,
        "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
        "distinct": True,
        "message": "Update app",
        "timestamp": "2024-05-01T10:00:00+02:00",
        "url": f"https://github.com/octo-org/hello-world/commit/{after}",
        "author": {"name": "Mona", "email": "mona@example.com", "username": "mona"},
        "committer": {"name": "Mona", "email": "mona@example.com", "username": "mona"},
        "added": changed.get("added", []),
        "removed": changed.get("removed", []),
        "modified": changed.get("modified", []),
    }
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": {
            "id": 186853002,
            "name": "hello-world",
            "full_name": "octo-org/hello-world",
            "private": False,
            "owner": {"name": "octo-org", "login": "octo-org"},
            "default_branch": "main",
        },
        "pusher": {"name": "mona", "email": "mona@example.com"},
        "sender": _GITHUB_USER,
        "created": before == ZERO,
        "deleted": after == ZERO,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/octo-org/hello-world/compare/{before[:12]}...{after[:12]}",
        "commits": [copy.deepcopy(commit) for _ in range(commits)] if after != ZERO else [],
        "head_commit": commit if after != ZERO else None,
    }


def github_pull_request(
    action: str = "opened", *, base: str = "main", head: str = "feature/login", merged: bool = False
) -> dict[str, Any]:
    repo = {"id": 186853002, "name": "hello-world", "full_name": "octo-org/hello-world"}
    return {
        "action": action,
        "number": 42,
        "pull_request": {
            "url": "https://api.github.com/repos/octo-org/hello-world/pulls/42",
            "id": 191568743,
            "number": 42,
            "state": "closed" if action == "closed" else "open",
            "title": "Add login",
            "user": _GITHUB_USER,
            "merged": merged,
            "head": {"label": f"octo-org:{head}", "ref": head, "sha": AFTER, "repo": repo},
            "base": {"label": f"octo-org:{base}", "ref": base, "sha": BASE, "repo": repo},
        },
        "repository": repo,
        "sender": _GITHUB_USER,
    }


def gitlab_push(
    ref: str = "refs/heads/main",
    *,
    files: dict[str, list[str]] | None = None,
    total: int | None = None,
    after: str = AFTER,
) -> dict[str, Any]:
    changed = files if files is not None else {"modified": ["src/app.py"]}
    commits = (
        [
            {
                "id": after,
                "message": "Update app\n",
                "title": "Update app",
                "timestamp": "2024-05-01T10:00:00+02:00",
                "url": f"https://gitlab.example.com/group/sub/project/-/commit/{after}",
                "author": {"name": "Jordi", "email": "jordi@example.com"},
                "added": changed.get("added", []),
                "modified": changed.get("modified", []),
                "removed": changed.get("removed", []),
            }
        ]
        if after != ZERO
        else []
    )
    return {
        "object_kind": "tag_push" if ref.startswith("refs/tags/") else "push",
        "event_name": "tag_push" if ref.startswith("refs/tags/") else "push",
        "before": BEFORE,
        "after": TAG_OBJECT if ref.startswith("refs/tags/") else after,
        "ref": ref,
        "ref_protected": True,
        "checkout_sha": after if after != ZERO else None,
        "user_id": 4,
        "user_name": "John Smith",
        "user_username": "jsmith",
        "project_id": 15,
        "project": {
            "id": 15,
            "name": "project",
            "path_with_namespace": "group/sub/project",
            "default_branch": "main",
            "web_url": "https://gitlab.example.com/group/sub/project",
        },
        "commits": commits,
        "total_commits_count": total if total is not None else len(commits),
        "repository": {
            "name": "project",
            "homepage": "https://gitlab.example.com/group/sub/project",
        },
    }


def gitlab_merge_request(action: str = "open", *, oldrev: str | None = None) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "id": 99,
        "iid": 7,
        "target_branch": "main",
        "source_branch": "feature/login",
        "source_project_id": 15,
        "target_project_id": 15,
        "title": "Add login",
        "state": "merged" if action == "merge" else "opened",
        "merge_status": "can_be_merged",
        "action": action,
        "last_commit": {"id": AFTER, "message": "Add login", "title": "Add login"},
        "diff_refs": {"base_sha": BASE, "head_sha": AFTER, "start_sha": BASE},
    }
    if oldrev:
        attrs["oldrev"] = oldrev
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {"id": 15, "name": "project", "path_with_namespace": "group/sub/project"},
        "object_attributes": attrs,
        "labels": [],
        "changes": {},
    }


_BITBUCKET_REPO = {
    "type": "repository",
    "full_name": "team/widget",
    "name": "widget",
    "uuid": "{2d7a8f64-4c3e-4f4b-9b0a-6f1f0e1d2c3b}",
    "scm": "git",
}


def bitbucket_push(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "actor": {"type": "user", "display_name": "Ann", "uuid": "{a1}"},
        "repository": _BITBUCKET_REPO,
        "push": {"changes": list(changes)},
    }


def bitbucket_ref(kind: str, name: str, commit: str) -> dict[str, Any]:
    return {
        "type": kind,
        "name": name,
        "target": {"type": "commit", "hash": commit, "message": "Update app\n"},
        "links": {"html": {"href": f"https://bitbucket.org/team/widget/branch/{name}"}},
    }


def bitbucket_change(
    new: dict[str, Any] | None, old: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "new": new,
        "old": old,
        "created": old is None,
        "closed": new is None,
        "forced": False,
        "truncated": False,
        "commits": [{"hash": new["target"]["hash"], "type": "commit"}] if new else [],
    }


def bitbucket_pull_request() -> dict[str, Any]:
    return {
        "actor": {"type": "user", "display_name": "Ann"},
        "repository": _BITBUCKET_REPO,
        "pullrequest": {
            "id": 12,
            "title": "Add login",
            "state": "OPEN",
            "source": {
                "branch": {"name": "feature/login"},
                "commit": {"hash": AFTER[:12], "type": "commit"},
                "repository": _BITBUCKET_REPO,
            },
            "destination": {
                "branch": {"name": "main"},
                "commit": {"hash": BASE[:12], "type": "commit"},
                "repository": _BITBUCKET_REPO,
            },
        },
    }

"""GitHub, GitLab and Bitbucket Cloud webhook payloads read into :class:`GitChange` s.

The host is told by its event header: ``X-GitHub-Event`` (``push``,
``pull_request``), ``X-Gitlab-Event`` (``Push Hook``, ``Tag Push Hook``,
``Merge Request Hook``) or ``X-Event-Key`` (``repo:push``,
``pullrequest:created|updated|fulfilled|rejected``). Other events of a known
host (GitHub's ``ping``, a label added to a pull request) are read as no change
at all. Anything else — no event header, a body that is not JSON, a member of
the wrong type — raises :class:`PayloadError` naming what is wrong, so a
hostile or broken sender gets a clear 400 and never a traceback. The caller
bounds the body's size before it gets here.

Pull request events map onto the three a V2 trigger filters on: opened (and
reopened) is OPEN, new commits on the source branch are UPDATED, merged or
closed without merging is CLOSED (CodePipeline user guide, "Pull request
events for triggers by different providers").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from stageline.triggers import changes
from stageline.triggers.changes import (
    ChangeKind,
    GitChange,
    PayloadError,
    PullRequestEvent,
    RefKind,
)

# GitHub lists at most this many commits in a push; past it the list is partial.
GITHUB_MAX_COMMITS = 2048
COMMIT_ID = re.compile(r"[0-9a-fA-F]{7,64}")
MAX_NAME = 1024


def load_document(body: bytes, content_type: str | None = None) -> Any:
    """The JSON document of a webhook delivery.

    GitHub can send ``application/x-www-form-urlencoded`` with the JSON in a
    ``payload`` field (a webhook's "content type: form"); everything else is
    read as JSON.
    """
    text = _text(body)
    if content_type and content_type.split(";")[0].strip().lower() == (
        "application/x-www-form-urlencoded"
    ):
        fields = parse_qs(text, keep_blank_values=True, max_num_fields=100)
        values = fields.get("payload")
        if not values:
            raise PayloadError("a form-encoded delivery needs a 'payload' field holding the JSON")
        text = values[0]
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8 text") from None


def event_of(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(host, event) from the event header, e.g. ("github", "push"); None without one."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for header, host in (
        ("x-github-event", "github"),
        ("x-gitlab-event", "gitlab"),
        ("x-event-key", "bitbucket"),
    ):
        if header in lowered:
            return host, lowered[header].strip()
    return None


def parse(headers: Mapping[str, str], document: Any) -> list[GitChange]:
    """The changes in one delivery: usually one, several for a Bitbucket push, none for
    events that are not pushes or pull request changes."""
    found = event_of(headers)
    if found is None:
        raise PayloadError(
            "unknown sender: a delivery needs an X-GitHub-Event, X-Gitlab-Event or "
            "X-Event-Key header"
        )
    host, event = found
    reader = _READERS.get((host, event))
    if reader is None:
        return []
    if not isinstance(document, dict):
        raise PayloadError("the payload must be a JSON object")
    return reader(document)


# --- field access that names what is missing ---------------------------------------------


def _get(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            raise PayloadError(f"'{path}' is missing from the payload")
        value = value.get(part)
    return value


def _str(doc: Mapping[str, Any], path: str, *, required: bool = True) -> str | None:
    value = _get(doc, path)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise PayloadError(f"'{path}' must be a non-empty string")
    if len(value) > MAX_NAME or any(c in value for c in "\x00\r\n"):
        raise PayloadError(f"'{path}' is not a plausible git name")
    return value


def _sha(doc: Mapping[str, Any], path: str) -> str | None:
    value = _get(doc, path)
    if value is None:
        return None
    if not isinstance(value, str) or not COMMIT_ID.fullmatch(value):
        raise PayloadError(f"'{path}' must be a commit id (hexadecimal)")
    return value


def _files(commits: Any, path: str) -> tuple[str, ...]:
    if not isinstance(commits, list):
        raise PayloadError(f"'{path}' must be a list")
    found: set[str] = set()
    for index, commit in enumerate(commits):
        if not isinstance(commit, dict):
            raise PayloadError(f"'{path}[{index}]' must be an object")
        for key in ("added", "modified", "removed"):
            names = commit.get(key) or []
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise PayloadError(f"'{path}[{index}].{key}' must be a list of paths")
            found.update(names)
    return tuple(sorted(found))


def _ref_change(
    provider: str, repository: str, ref: str, before: str | None, after: str | None, **extra: Any
) -> GitChange:
    change = changes.push(
        provider=provider, repository=repository, ref=ref, before=before, after=after, **extra
    )
    if change is None:
        raise PayloadError(
            f"'ref' {ref!r} is neither a branch (refs/heads/) nor a tag (refs/tags/)"
        )
    return change


# --- GitHub ------------------------------------------------------------------------------


def _github_push(doc: dict[str, Any]) -> list[GitChange]:
    ref = _str(doc, "ref")
    assert ref is not None
    repository = _str(doc, "repository.full_name")
    assert repository is not None
    before, after = _sha(doc, "before"), _sha(doc, "after")
    if doc.get("deleted") is True:
        after = None
    elif after and ref.startswith(changes.TAG_PREFIX):
        # An annotated tag's "after" is the tag object; the commit is head_commit's.
        after = _sha(doc, "head_commit.id") if isinstance(doc.get("head_commit"), dict) else after
    commits = doc.get("commits")
    files: tuple[str, ...] | None = None
    if isinstance(commits, list) and 0 < len(commits) < GITHUB_MAX_COMMITS:
        files = _files(commits, "commits")
    return [_ref_change("github", repository, ref, before, after, files=files)]


_GITHUB_PR_ACTIONS = {
    "opened": PullRequestEvent.OPEN,
    "reopened": PullRequestEvent.OPEN,
    "synchronize": PullRequestEvent.UPDATED,
    "closed": PullRequestEvent.CLOSED,
}


def _github_pull_request(doc: dict[str, Any]) -> list[GitChange]:
    action = doc.get("action")
    event = _GITHUB_PR_ACTIONS.get(action) if isinstance(action, str) else None
    if event is None:
        return []
    number = doc.get("number")
    return [
        _pull_request(
            provider="github",
            repository=_str(doc, "repository.full_name"),
            event=event,
            source=_str(doc, "pull_request.head.ref"),
            destination=_str(doc, "pull_request.base.ref"),
            head=_sha(doc, "pull_request.head.sha"),
            base=_sha(doc, "pull_request.base.sha"),
            number=number if isinstance(number, int) else None,
            merged=_get(doc, "pull_request.merged") is True,
        )
    ]


def _pull_request(
    *,
    provider: str,
    repository: str | None,
    event: PullRequestEvent,
    source: str | None,
    destination: str | None,
    head: str | None,
    base: str | None,
    number: int | None,
    merged: bool,
) -> GitChange:
    assert repository is not None and source is not None and destination is not None
    if head is None:
        raise PayloadError("the pull request's head commit is missing from the payload")
    return GitChange(
        provider=provider,
        repository=repository,
        kind=ChangeKind.PULL_REQUEST,
        ref=changes.BRANCH_PREFIX + source,
        ref_kind=RefKind.BRANCH,
        name=source,
        before=base,
        after=head,
        event=event,
        source_branch=source,
        destination_branch=destination,
        number=number,
        merged=merged and event is PullRequestEvent.CLOSED,
    )


# --- GitLab ------------------------------------------------------------------------------


def _gitlab_push(doc: dict[str, Any]) -> list[GitChange]:
    ref = _str(doc, "ref")
    assert ref is not None
    repository = _str(doc, "project.path_with_namespace")
    assert repository is not None
    before, after = _sha(doc, "before"), _sha(doc, "after")
    checkout = _sha(doc, "checkout_sha")
    if after and set(after) != {"0"} and checkout:
        after = checkout  # a tag's "after" is the tag object; checkout_sha is the commit
    commits = doc.get("commits")
    total = doc.get("total_commits_count")
    files: tuple[str, ...] | None = None
    if isinstance(commits, list) and commits:
        complete = not isinstance(total, int) or total <= len(commits)
        files = _files(commits, "commits") if complete else None
    return [_ref_change("gitlab", repository, ref, before, after, files=files)]


def _gitlab_merge_request(doc: dict[str, Any]) -> list[GitChange]:
    attrs = doc.get("object_attributes")
    if not isinstance(attrs, dict):
        raise PayloadError("'object_attributes' is missing from the payload")
    action = attrs.get("action")
    if action in ("open", "reopen"):
        event = PullRequestEvent.OPEN
    elif action == "update" and attrs.get("oldrev"):
        event = PullRequestEvent.UPDATED  # an update without oldrev changed no commits
    elif action in ("merge", "close"):
        event = PullRequestEvent.CLOSED
    else:
        return []
    number = attrs.get("iid")
    base = _sha(doc, "object_attributes.diff_refs.base_sha") if attrs.get("diff_refs") else None
    return [
        _pull_request(
            provider="gitlab",
            repository=_str(doc, "project.path_with_namespace"),
            event=event,
            source=_str(doc, "object_attributes.source_branch"),
            destination=_str(doc, "object_attributes.target_branch"),
            head=_sha(doc, "object_attributes.last_commit.id"),
            base=base,
            number=number if isinstance(number, int) else None,
            merged=action == "merge",
        )
    ]


# --- Bitbucket Cloud ---------------------------------------------------------------------

_BITBUCKET_REF_PREFIX = {
    "branch": changes.BRANCH_PREFIX,
    "named_branch": changes.BRANCH_PREFIX,
    "tag": changes.TAG_PREFIX,
    "annotated_tag": changes.TAG_PREFIX,
}


def _bitbucket_push(doc: dict[str, Any]) -> list[GitChange]:
    repository = _str(doc, "repository.full_name")
    assert repository is not None
    items = _get(doc, "push.changes")
    if not isinstance(items, list):
        raise PayloadError("'push.changes' must be a list")
    found: list[GitChange] = []
    for index, item in enumerate(items):
        where = f"push.changes[{index}]"
        if not isinstance(item, dict):
            raise PayloadError(f"'{where}' must be an object")
        new, old = item.get("new"), item.get("old")
        state = new if isinstance(new, dict) else old
        if not isinstance(state, dict):
            raise PayloadError(f"'{where}' has neither 'new' nor 'old'")
        prefix = _BITBUCKET_REF_PREFIX.get(state.get("type", ""))
        if prefix is None:
            continue  # Mercurial bookmarks and the like
        name = _str(state, "name")
        assert name is not None
        after = _sha(new, "target.hash") if isinstance(new, dict) else None
        before = _sha(old, "target.hash") if isinstance(old, dict) else None
        found.append(_ref_change("bitbucket", repository, prefix + name, before, after))
    return found


_BITBUCKET_PR_EVENTS = {
    "pullrequest:created": PullRequestEvent.OPEN,
    "pullrequest:updated": PullRequestEvent.UPDATED,
    "pullrequest:fulfilled": PullRequestEvent.CLOSED,
    "pullrequest:rejected": PullRequestEvent.CLOSED,
}


def _bitbucket_pull_request(key: str) -> Callable[[dict[str, Any]], list[GitChange]]:
    def read(doc: dict[str, Any]) -> list[GitChange]:
        number = _get(doc, "pullrequest.id")
        return [
            _pull_request(
                provider="bitbucket",
                repository=_str(doc, "repository.full_name"),
                event=_BITBUCKET_PR_EVENTS[key],
                source=_str(doc, "pullrequest.source.branch.name"),
                destination=_str(doc, "pullrequest.destination.branch.name"),
                head=_sha(doc, "pullrequest.source.commit.hash"),
                base=_sha(doc, "pullrequest.destination.commit.hash"),
                number=number if isinstance(number, int) else None,
                merged=key == "pullrequest:fulfilled",
            )
        ]

    return read


_READERS: dict[tuple[str, str], Callable[[dict[str, Any]], list[GitChange]]] = {
    ("github", "push"): _github_push,
    ("github", "pull_request"): _github_pull_request,
    ("gitlab", "Push Hook"): _gitlab_push,
    ("gitlab", "Tag Push Hook"): _gitlab_push,
    ("gitlab", "Merge Request Hook"): _gitlab_merge_request,
    ("bitbucket", "repo:push"): _bitbucket_push,
    **{("bitbucket", key): _bitbucket_pull_request(key) for key in _BITBUCKET_PR_EVENTS},
}

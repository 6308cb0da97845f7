"""Which source actions are watched how, and which revisions they take (AWS's rules)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stageline.definitions.catalog import ActionTypeKey
from stageline.definitions.model import ActionDecl, PipelineDecl

CODECOMMIT = ActionTypeKey(category="Source", owner="AWS", provider="CodeCommit", version="1")
S3 = ActionTypeKey(category="Source", owner="AWS", provider="S3", version="1")
ECR = ActionTypeKey(category="Source", owner="AWS", provider="ECR", version="1")
CONNECTION = ActionTypeKey(
    category="Source", owner="AWS", provider="CodeStarSourceConnection", version="1"
)
GITHUB_V1 = ActionTypeKey(category="Source", owner="ThirdParty", provider="GitHub", version="1")

COMMIT_ID = "COMMIT_ID"
IMAGE_DIGEST = "IMAGE_DIGEST"
S3_OBJECT_VERSION_ID = "S3_OBJECT_VERSION_ID"
S3_OBJECT_KEY = "S3_OBJECT_KEY"

# SourceRevisionType values each source provider accepts (StartPipelineExecution.sourceRevisions).
REVISION_TYPES: dict[ActionTypeKey, tuple[str, ...]] = {
    CODECOMMIT: (COMMIT_ID,),
    CONNECTION: (COMMIT_ID,),
    GITHUB_V1: (COMMIT_ID,),
    S3: (S3_OBJECT_VERSION_ID, S3_OBJECT_KEY),
    ECR: (IMAGE_DIGEST,),
}

# The revision type of what polling, pushes and PutActionRevision record for each provider.
NATURAL_TYPE: dict[ActionTypeKey, str] = {
    CODECOMMIT: COMMIT_ID,
    CONNECTION: COMMIT_ID,
    GITHUB_V1: COMMIT_ID,
    S3: S3_OBJECT_VERSION_ID,
    ECR: IMAGE_DIGEST,
}


def source_actions(decl: PipelineDecl) -> Iterator[ActionDecl]:
    if decl.stages:
        yield from (a for a in decl.stages[0].actions if a.is_source)


def _flag(config: Mapping[str, str], name: str, default: bool) -> bool:
    value = config.get(name)
    if value is None or value == "":
        return default
    return str(value).strip().lower() != "false"


def has_trigger(raw: Mapping[str, Any], action_name: str) -> bool:
    """Whether the pipeline declares V2 triggers for this source action (they then decide)."""
    return any(
        (t.get("gitConfiguration") or {}).get("sourceActionName") == action_name
        for t in raw.get("triggers") or ()
    )


def polled(action: ActionDecl, raw: Mapping[str, Any]) -> bool:
    """Polled on a schedule: CodeCommit, S3 and GitHub (version 1) with PollForSourceChanges true,
    AWS's default when it is unset. Connections have no such setting on AWS, which relies on the
    provider's webhooks; stageline may not be reachable from the provider, so it also polls
    connection sources whose DetectChanges is true (the default). ECR sources are started by
    the registry's push events on AWS; a plain registry sends none, so stageline polls the
    tag. V2 triggers replace polling."""
    if has_trigger(raw, action.name):
        return False
    if action.type in (CODECOMMIT, S3, GITHUB_V1):
        return _flag(action.configuration, "PollForSourceChanges", True)
    if action.type == CONNECTION:
        return _flag(action.configuration, "DetectChanges", True)
    return action.type == ECR


def uses_event_rule(action: ActionDecl, raw: Mapping[str, Any]) -> bool:
    """A CodeCommit source with PollForSourceChanges false is started by an EventBridge rule,
    which stageline creates for it, as the CodePipeline console and CloudFormation do."""
    return (
        action.type == CODECOMMIT
        and not has_trigger(raw, action.name)
        and not _flag(action.configuration, "PollForSourceChanges", True)
    )

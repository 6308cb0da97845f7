"""Real pipeline definitions from public repositories load (shared corpus, when present).

The corpus lives beside the repository (``../shared/corpus``) and is not part
of the project; without it these tests skip. Each file listed in its
``index.tsv`` must yield at least one complete pipeline. Templates whose
parameters have no Default get generic placeholder values, as a user would
pass with ``--parameter``. The checks below follow the index's ``features``
column; a few exact ones come from reading particular files.
"""

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from stageline.ascode import DefinitionError, LoadedPipeline, load_pipeline_file
from stageline.ascode.yaml_tags import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"

FORMS = {
    "cfn-yaml": "cfn-yaml",
    "cfn-json": "cfn-json",
    "cdk-json": "cfn-json",
    "cli-json": "create-pipeline-json",
}

# Files CloudFormation itself would refuse, and the precise reason we give.
# karthickcse05: "!Ref GitLabConnection    // Existing Code star connection ARN" —
# YAML comments start with '#', so the "comment" is part of the Ref's name.
REFUSED = {
    "karthickcse05__codepipeline-gitlab-cf__codepipeline-stack.yaml": (
        "Resources.CodePipeline.Properties.Stages[0].Actions[0].Configuration.ConnectionArn",
        "names no parameter or resource (did you mean 'GitLabConnection'? "
        "YAML comments start with '#', not '//')",
    ),
}


def _rows() -> list[Any]:
    index = CORPUS / "index.tsv"
    if not index.is_file():
        return [pytest.param(None, id="no-corpus")]
    with index.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [pytest.param(row, id=row["file"]) for row in rows]


def _placeholders(path: Path) -> dict[str, str]:
    """Values for parameters without a Default: what a user would have to pass."""
    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if text.lstrip().startswith("{") else load_yaml(text)
    values = {}
    for name, spec in (document.get("Parameters") or {}).items():
        if "Default" in spec:
            continue
        if spec.get("AllowedValues"):
            values[name] = str(spec["AllowedValues"][0])
        elif spec.get("Type") == "Number":
            values[name] = "111111111111"
        else:
            value = re.sub(r"[^a-z0-9]", "", name.lower()) or "value"
            values[name] = value.ljust(int(spec.get("MinLength", 0)), "0")
    return values


def _load(row: dict[str, str]) -> list[LoadedPipeline]:
    path = CORPUS / "files" / row["file"]
    is_template = FORMS[row["form"]].startswith("cfn")
    return load_pipeline_file(path, parameters=_placeholders(path) if is_template else None)


def _actions(pipeline: LoadedPipeline) -> list[dict[str, Any]]:
    return [action for stage in pipeline.pipeline["stages"] for action in stage["actions"]]


def _stores(pipeline: LoadedPipeline) -> list[dict[str, Any]]:
    declared = pipeline.pipeline
    return (
        [declared["artifactStore"]]
        if "artifactStore" in declared
        else [*declared.get("artifactStores", {}).values()]
    )


@pytest.mark.parametrize("row", _rows())
def test_corpus_file_loads(row: dict[str, str] | None) -> None:
    if row is None:
        pytest.skip(f"no shared corpus at {CORPUS}")
    if row["file"] in REFUSED:
        path, message = REFUSED[row["file"]]
        with pytest.raises(DefinitionError) as caught:
            _load(row)
        assert caught.value.path == path
        assert message in caught.value.message
        return

    loaded = _load(row)
    assert loaded, "at least one pipeline"
    for pipeline in loaded:
        declared = pipeline.pipeline
        assert isinstance(declared["name"], str) and declared["name"]
        assert isinstance(declared["roleArn"], str) and declared["roleArn"]
        assert len(declared["stages"]) >= 2
        for action in _actions(pipeline):
            type_id = action["actionTypeId"]
            assert set(type_id) == {"category", "owner", "provider", "version"}
            assert all(isinstance(value, str) for value in type_id.values())
        assert pipeline.form == FORMS[row["form"]]

    pipeline = loaded[0]
    features = row["features"]
    actions = _actions(pipeline)
    if re.search(r"\bV2\b", features):
        assert pipeline.pipeline["pipelineType"] == "V2"
    if "no PipelineType" in features:
        assert "pipelineType" not in pipeline.pipeline
    if "PipelineType V1" in features:
        assert pipeline.pipeline["pipelineType"] == "V1"
    if "KMS" in features:
        assert any("encryptionKey" in store for store in _stores(pipeline))
    if "Namespace" in features:
        assert any("namespace" in action for action in actions)
    if "manual approval" in features.lower():
        assert any(action["actionTypeId"]["provider"] == "Manual" for action in actions)
    if "Lambda invoke" in features:
        assert any(action["actionTypeId"]["provider"] == "Lambda" for action in actions)
    if "Owner: Custom" in features:
        assert any(action["actionTypeId"]["owner"] == "Custom" for action in actions)
    if "RestartExecutionOnUpdate" in features:
        assert any("RestartExecutionOnUpdate" in note for note in pipeline.notes)
    if "CROSS-REGION" in features:
        assert len(pipeline.pipeline["artifactStores"]) >= 2
        assert any("region" in action for action in actions)
    if row["form"] == "cli-json":
        assert pipeline.notes == []


def _row(prefix: str) -> dict[str, str]:
    for param in _rows():
        row = param.values[0]
        if row is None:
            pytest.skip(f"no shared corpus at {CORPUS}")
        if row["file"].startswith(prefix):
            return row
    pytest.fail(f"{prefix} is not in the corpus index")


def test_cross_region_artifact_stores_become_a_map() -> None:
    (pipeline,) = _load(_row("erwanjouan__"))
    assert set(pipeline.pipeline["artifactStores"]) == {"eu-west-1", "eu-west-3"}
    deploys = pipeline.pipeline["stages"][2]["actions"]
    assert [(a["region"], a["runOrder"]) for a in deploys] == [("eu-west-1", 1), ("eu-west-3", 1)]
    source = pipeline.pipeline["stages"][0]["actions"][0]
    assert source["configuration"]["PollForSourceChanges"] == "false"


def test_source_action_chosen_by_fn_if_and_variables_kept() -> None:
    (pipeline,) = _load(_row("aws-samples__aws-identitycenter"))
    source = pipeline.pipeline["stages"][0]["actions"][0]
    assert source["actionTypeId"]["provider"] == "CodeStarSourceConnection"
    assert source["namespace"] == "SourceVariables"
    approval = pipeline.pipeline["stages"][3]["actions"][0]
    assert "#{SourceVariables.CommitId}" in approval["configuration"]["CustomData"]


def test_run_orders_that_do_not_start_at_one_are_kept() -> None:
    (pipeline,) = _load(_row("aws-quickstart__quickstart-taskcat-ci"))
    assert [s["actions"][0].get("runOrder") for s in pipeline.pipeline["stages"]] == [1, 2, 3]


def test_imported_role_gets_a_role_arn_and_a_note() -> None:
    (pipeline,) = _load(_row("aws-samples__service-catalog-framework"))
    assert pipeline.pipeline["roleArn"] == "arn:aws:iam::123456789012:role/x-acct-codepipeline-role"
    assert any("Fn::ImportValue 'x-acct-codepipeline-role'" in note for note in pipeline.notes)


def test_get_pipeline_output_keeps_version_and_action_regions() -> None:
    (pipeline,) = _load(_row("NickBorgers__"))
    assert pipeline.pipeline["version"] == 10
    assert {a["region"] for a in _actions(pipeline)} == {"us-east-1"}

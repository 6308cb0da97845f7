"""Every real pipeline definition we have lints: clean, or with a precise reason.

Reads ../shared/corpus (definitions from public repositories) and the pipeline
definitions embedded in ../shared/seeds when those folders exist beside the
repository; skips otherwise.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from stageline.ascode import DefinitionError, load_pipelines
from stageline.cli.linting import problems_of
from tests.unit.ascode.test_ascode_corpus import _placeholders

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"

# Files that do not lint clean, and the reason a user reads. Each was checked by hand.
REFUSED = {
    # the template uses `//` as if it were a YAML comment, so the Ref names nothing
    "karthickcse05__codepipeline-gitlab-cf__codepipeline-stack.yaml": "Ref to 'GitLabConnection    //",
    # a Custom action type (Jenkins) that must first be created with CreateCustomActionType
    "mikeapted__aws-codepipeline-devicefarm__cdk__template.yml": "provider Jenkins, version 10) is not available",
    # with an empty connection (the default of the template's parameter) CodePipeline refuses the action
    "aws-samples__aws-identitycenter-codepipeline-auto-assignment__templates__codepipeline-stack.template": "configuration.ConnectionArn' failed to satisfy constraint",
    # the account id parameter takes a 12-digit account; the placeholder name is not one
    "PigumerGroup__aws-cross-account-pipeline__cloudformation__codepipeline.yaml": "roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern",
}


def _rows() -> list[Any]:
    index = CORPUS / "index.tsv"
    if not index.is_file():
        return [pytest.param(None, id="no-corpus")]
    with index.open(encoding="utf-8", newline="") as handle:
        return [pytest.param(row, id=row["file"]) for row in csv.DictReader(handle, delimiter="\t")]


def lint_text(text: str, *, filename: str, parameters: dict[str, str] | None = None) -> list[str]:
    """What `stageline lint` reports for one file: load errors, then each pipeline's problems."""
    try:
        loaded = load_pipelines(text, filename=filename, parameters=parameters)
    except DefinitionError as exc:
        return [str(exc)]
    return [problem for item in loaded for problem in problems_of(item.pipeline)]


@pytest.mark.parametrize("row", _rows())
def test_corpus_file_lints(row: dict[str, str] | None) -> None:
    if row is None:
        pytest.skip("../shared/corpus is not present")
    path = CORPUS / "files" / row["file"]
    template = row["form"].startswith(("cfn", "cdk"))
    problems = lint_text(
        path.read_text(), filename=row["file"], parameters=_placeholders(path) if template else None
    )
    expected = REFUSED.get(row["file"])
    if expected is None:
        assert problems == []
    else:
        assert problems, "expected a refusal"
        assert any(expected in p for p in problems), problems


def _json_blocks(text: str) -> list[str]:
    """Top-level JSON objects that hold a "pipeline" member, cut out by balancing braces."""
    blocks = []
    for match in re.finditer(r'^\{\s*"pipeline"', text, re.MULTILINE):
        depth, end = 0, match.start()
        for end in range(match.start(), len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        blocks.append(text[match.start() : end + 1])
    return blocks


def _yaml_blocks(text: str) -> list[str]:
    return [
        m.group(0)
        for m in re.finditer(r"^Resources:\n(?:[ \t]+.*\n|\n(?=[ \t]))+", text, re.MULTILINE)
    ]


def test_seed_definitions_lint() -> None:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    results: dict[str, list[str]] = {}
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text()
        for i, block in enumerate(_json_blocks(text) + _yaml_blocks(text)):
            results[f"{seed.name}#{i}"] = lint_text(block, filename=seed.name)
    assert results, "the seeds hold pipeline definitions"
    clean = [k for k, v in results.items() if not v]
    # The complete definitions lint clean: the ECS pipeline of seed 002, the template of seed 003.
    assert any(k.startswith("002_") for k in clean) and any(k.startswith("003_") for k in clean), (
        results
    )
    for key, problems in results.items():
        for problem in problems:
            # fragments ("stages": [ ... ], a pipeline with only variables) get a reason with a place
            assert re.search(r"line \d+|at 'pipeline|Member must|^pipeline", problem), (
                key,
                problem,
            )


def test_the_lint_command_over_the_whole_corpus(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from stageline.cli import main

    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    files = [
        str(p)
        for p in sorted((CORPUS / "files").iterdir())
        if p.name.endswith((".json", "yml", "yaml"))
    ]
    json_only = [
        f for f in files if f.endswith(".json") and '"pipeline"' in Path(f).read_text()[:200]
    ]
    result = CliRunner().invoke(main, ["lint", *json_only])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == len(json_only)
    assert json.loads(Path(json_only[0]).read_text())  # they really are create-pipeline JSON

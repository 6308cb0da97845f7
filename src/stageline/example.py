"""The example `make run` starts with: a hosted repository and a pipeline that has run once.

Source (the hosted `hello-app` repository) → Build (Commands: tests, then a
package) → Approval → Deploy (Commands: copy the package into
`<data dir>/deployments/hello-app`). Seeding is idempotent: an existing
repository or pipeline is left as it is.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from stageline.errors import ApiError
from stageline.repos.gitcmd import publish_snapshot

log = logging.getLogger("stageline.example")

REPOSITORY = "hello-app"
PIPELINE = "hello-stageline"

APP_FILES = {
    "README.md": (
        "# hello-app\n\nThe sample application of stageline's example pipeline.\n"
        "Clone it, change `app/greeting.py`, push, and release the change from the console\n"
        "or with `aws codepipeline start-pipeline-execution --name hello-stageline`.\n"
    ),
    "app/__init__.py": "",
    "app/greeting.py": (
        'def greet(name: str) -> str:\n    """The whole application."""\n    return f"Hello, {name}!"\n'
    ),
    "tests/__init__.py": "",
    "tests/test_greeting.py": (
        "import unittest\n\nfrom app.greeting import greet\n\n\n"
        "class GreetingTest(unittest.TestCase):\n"
        "    def test_greets_by_name(self) -> None:\n"
        '        self.assertEqual(greet("stageline"), "Hello, stageline!")\n'
    ),
}


def declaration(deploy_dir: Path) -> dict[str, Any]:
    def commands(
        name: str, cmds: list[str], inputs: list[str], outputs: tuple[str, ...] = (), **extra: Any
    ) -> dict[str, Any]:
        return {
            "name": name,
            "actionTypeId": {
                "category": "Compute",
                "owner": "AWS",
                "provider": "Commands",
                "version": "1",
            },
            "commands": cmds,
            "inputArtifacts": [{"name": n} for n in inputs],
            "outputArtifacts": [{"name": n, "files": ["**/*"]} for n in outputs],
            **extra,
        }

    return {
        "name": PIPELINE,
        "roleArn": "arn:aws:iam::123456789012:role/stageline-example",
        "artifactStore": {"type": "S3", "location": "stageline-example-artifacts"},
        "pipelineType": "V2",
        "executionMode": "QUEUED",
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "namespace": "SourceVariables",
                        "actionTypeId": {
                            "category": "Source",
                            "owner": "AWS",
                            "provider": "CodeCommit",
                            "version": "1",
                        },
                        "configuration": {
                            "RepositoryName": REPOSITORY,
                            "BranchName": "main",
                            "PollForSourceChanges": "false",
                        },
                        "outputArtifacts": [{"name": "SourceOutput"}],
                    }
                ],
            },
            {
                "name": "Build",
                "actions": [
                    commands(
                        "TestAndPackage",
                        [
                            "python3 -B -m unittest discover -v",
                            "mkdir -p dist && cp -r app dist/",
                            "echo '#{SourceVariables.CommitId}' > dist/REVISION",
                        ],
                        ["SourceOutput"],
                        ("Package",),
                    )
                ],
            },
            {
                "name": "Approval",
                "actions": [
                    {
                        "name": "Release",
                        "actionTypeId": {
                            "category": "Approval",
                            "owner": "AWS",
                            "provider": "Manual",
                            "version": "1",
                        },
                        "configuration": {
                            "CustomData": "Deploy hello-app #{SourceVariables.CommitId} to the local directory?"
                        },
                    }
                ],
            },
            {
                "name": "Deploy",
                "actions": [
                    commands(
                        "CopyToDirectory",
                        [
                            f"mkdir -p '{deploy_dir}'",
                            f"cp -r dist/. '{deploy_dir}/'",
                            f"ls -R '{deploy_dir}'",
                        ],
                        ["Package"],
                    )
                ],
            },
        ],
    }


def seed(services: Any, data_dir: Path) -> None:
    """Create the repository (with the sample app) and the pipeline, unless they exist."""
    repos = services.repos
    if not repos.exists(REPOSITORY):
        repos.create(REPOSITORY, "stageline's sample application")
        _push_files(repos.git_dir(REPOSITORY), APP_FILES)
        log.info("example: created repository %s", REPOSITORY)
    try:
        services.pipelines.get(PIPELINE)
        return
    except ApiError:
        pass
    deploy_dir = (data_dir / "deployments" / REPOSITORY).resolve()
    services.pipelines.create(declaration(deploy_dir), [{"key": "example", "value": "true"}])
    log.info("example: created pipeline %s; its first execution is running", PIPELINE)


def _push_files(git_dir: Path, files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="stageline-example-") as tmp:
        work = Path(tmp) / "work"
        for rel, text in files.items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        publish_snapshot(
            work,
            str(git_dir),
            "The sample app and its test",
            author="stageline",
            email="example@stageline.local",
        )

"""Reading buildspecs: every section, CodeBuild's value forms, and errors that name the fix."""

from __future__ import annotations

import textwrap

import pytest

from stageline.builds import Buildspec, BuildspecError, FailureAction, parse_buildspec
from stageline.builds.onfailure import parse_on_failure
from stageline.builds.secrets import SecretReference, parse_secret_reference
from stageline.builds.yamlload import MAX_BUILDSPEC_BYTES

FULL = """
version: 0.2
run-as: builder
env:
  shell: bash
  variables:
    JAVA_HOME: "/usr/lib/jvm/java-8-openjdk-amd64"
    RETRIES: 3
    FLAG: yes
  parameter-store:
    LOGIN_PASSWORD: /CodeBuild/dockerLoginPassword
  secrets-manager:
    TOKEN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf:token::v-1"
  exported-variables:
    - IMAGE_TAG
  git-credential-helper: yes
proxy:
  upload-artifacts: no
phases:
  install:
    run-as: installer
    on-failure: CONTINUE
    runtime-versions:
      java: corretto17
      python: 3.11
    commands:
      - echo install
      - true
    finally:
      - echo always
  pre_build:
    commands: echo only one command
  build:
    on-failure: RETRY-2-.*connection timed out.*
    commands:
      - |
        if [ -f x ]; then
          echo multi-line
        fi
  post_build:
    commands: []
reports:
  unit-tests:
    files: ['**/*']
    base-directory: target/tests/reports
    discard-paths: no
  coverage:
    files: coverage.xml
    file-format: coberturaxml
artifacts:
  files:
    - target/app.jar
  name: app-$(date +%Y-%m-%d)
  discard-paths: yes
  base-directory: 'build*'
  exclude-paths: ['**/*.tmp']
  enable-symlinks: yes
  s3-prefix: builds
  secondary-artifacts:
    docs:
      files: ['docs/**/*']
      name: docs-artifact
cache:
  paths:
    - '/root/.m2/**/*'
    - node_modules/**/*
"""


def parse(text: str) -> Buildspec:
    return parse_buildspec(textwrap.dedent(text))


def problems(text: str) -> list[str]:
    with pytest.raises(BuildspecError) as caught:
        parse(text)
    return list(caught.value.problems)


def test_every_section_is_read() -> None:
    spec = parse(FULL)
    assert spec.version == "0.2" and spec.shared_shell
    assert spec.run_as == "builder"
    assert spec.env.shell == "bash"
    assert dict(spec.env.variables) == {
        "JAVA_HOME": "/usr/lib/jvm/java-8-openjdk-amd64",
        "RETRIES": "3",
        "FLAG": "yes",
    }
    assert dict(spec.env.parameter_store) == {"LOGIN_PASSWORD": "/CodeBuild/dockerLoginPassword"}
    assert spec.env.exported_variables == ("IMAGE_TAG",)
    assert spec.env.git_credential_helper is True
    install = spec.install
    assert install is not None
    assert install.commands == ("echo install", "true")
    assert install.finally_commands == ("echo always",)
    assert install.on_failure is not None and install.on_failure.action is FailureAction.CONTINUE
    assert install.run_as == "installer"
    assert dict(install.runtime_versions) == {"java": "corretto17", "python": "3.11"}
    assert spec.pre_build is not None and spec.pre_build.commands == ("echo only one command",)
    build = spec.build
    assert build is not None and build.on_failure is not None
    assert (build.on_failure.retries, build.on_failure.pattern) == (2, ".*connection timed out.*")
    assert build.commands[0].startswith("if [ -f x ]; then\n")
    assert spec.post_build is not None and spec.post_build.commands == ()
    unit, coverage = spec.reports
    assert unit.name == "unit-tests" and unit.base_directory == "target/tests/reports"
    assert unit.file_format == "JUNITXML" and unit.discard_paths is False
    assert coverage.files == ("coverage.xml",) and coverage.file_format == "COBERTURAXML"
    artifacts = spec.artifacts
    assert artifacts is not None and artifacts.identifier is None
    assert artifacts.files == ("target/app.jar",)
    assert artifacts.name == "app-$(date +%Y-%m-%d)"
    assert artifacts.discard_paths and artifacts.enable_symlinks
    assert artifacts.base_directory == "build*" and artifacts.exclude_paths == ("**/*.tmp",)
    assert artifacts.s3_prefix == "builds"
    (docs,) = artifacts.secondary
    assert docs.identifier == "docs" and docs.name == "docs-artifact"
    assert spec.cache is not None
    assert spec.cache.paths == ("/root/.m2/**/*", "node_modules/**/*")
    assert spec.cache.restores and spec.cache.saves


def test_the_parsed_buildspec_is_read_only() -> None:
    spec = parse(FULL)
    with pytest.raises(TypeError):
        spec.env.variables["X"] = "1"  # type: ignore[index]


def test_version_0_1_uses_its_own_names_and_separate_shells() -> None:
    spec = parse(
        """
        version: 0.1
        environment_variables:
          plaintext:
            A: "1"
        phases:
          build:
            commands: [echo hi]
        artifacts:
          type: zip
          files: ['**/*']
        """
    )
    assert spec.version == "0.1" and not spec.shared_shell
    assert dict(spec.env.variables) == {"A": "1"}


@pytest.mark.parametrize(
    ("value", "action", "retries", "pattern"),
    [
        ("ABORT", "ABORT", 0, None),
        ("CONTINUE", "CONTINUE", 0, None),
        ("RETRY", "RETRY", 3, None),
        ("RETRY-0", "RETRY", 0, None),
        ("RETRY-4", "RETRY", 4, None),
        ("RETRY-100", "RETRY", 100, None),
        ("RETRY-invalid+", "RETRY", 3, "invalid+"),
        (
            "Retry-.*Error: Unable to connect to database.*",
            "RETRY",
            3,
            ".*Error: Unable to connect to database.*",
        ),
        ("RETRY-8-invalid+", "RETRY", 8, "invalid+"),
        ("Retry-3-.*connection timed out.*", "RETRY", 3, ".*connection timed out.*"),
        ("RETRY-2-a-b", "RETRY", 2, "a-b"),
    ],
)
def test_on_failure_values_as_aws_documents_them(
    value: str, action: str, retries: int, pattern: str | None
) -> None:
    parsed = parse_on_failure(value)
    assert (parsed.action.value, parsed.retries, parsed.pattern) == (action, retries, pattern)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("FOO", "'FOO' is not ABORT, CONTINUE or RETRY[-count][-regex]"),
        ("RETRYX", "is not ABORT, CONTINUE or RETRY[-count][-regex]"),
        ("RETRY-", "nothing follows 'RETRY-'"),
        ("RETRY-101", "must be between 0 and 100"),
        ("RETRY-2-", "the regex after the count is empty"),
        ("RETRY-2-[", "is not a valid regular expression"),
        ("RETRY-(", "is not a valid regular expression"),
    ],
)
def test_invalid_on_failure_names_the_key_and_the_forms(value: str, reason: str) -> None:
    found = problems(
        f"""
        version: 0.2
        phases:
          build:
            on-failure: "{value}"
            commands: [make]
        """
    )
    assert len(found) == 1
    assert found[0].startswith("phases.build.on-failure: ")
    assert reason in found[0]


def test_retry_regex_matches_the_message_or_the_output() -> None:
    retry = parse_on_failure("RETRY-2-timed out")
    assert retry.should_retry("Error while executing command: x", ["connect: timed out"])
    assert not retry.should_retry("Error while executing command: x", ["refused"])
    assert parse_on_failure("RETRY").should_retry("anything", [])
    assert not parse_on_failure("CONTINUE").should_retry("anything", [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("phases:\n  build:\n    commands: [x]\n", "version: is required"),
        ("version: 0.3\nphases: {}\n", "version: '0.3' is not a buildspec version"),
        ("version: 0.2\n", "phases: is required"),
        (
            "version: 0.2\nphases:\n  pre-build:\n    commands: [x]\n",
            "phases.pre-build: is not a phase; did you mean pre_build?",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a: b\n",
            "phases.build.commands[0]: is a mapping, not text",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    command: [x]\n",
            "phases.build.command: is not a key here",
        ),
        ("version: 0.2\nphase: {}\nphases: {}\n", "phase: is not a buildspec key"),
        (
            "version: 0.2\nphases: {}\nartifacts:\n  name: x\n",
            "artifacts.files: is required",
        ),
        (
            "version: 0.2\nphases: {}\nartifacts:\n  files: ['../secret']\n",
            "artifacts.files[0]: artifact path pattern '../secret' contains '..'",
        ),
        (
            "version: 0.2\nphases: {}\nartifacts:\n  files: [x]\n  base-directory: /etc\n",
            "artifacts.base-directory: '/etc' must be a relative path",
        ),
        (
            "version: 0.2\nphases: {}\nartifacts:\n  files: [x]\n  discard-paths: maybe\n",
            "artifacts.discard-paths: 'maybe' is not yes or no",
        ),
        (
            "version: 0.2\nphases: {}\nartifacts:\n  files: [x]\n"
            "  secondary-artifacts:\n    two: {name: y}\n",
            "artifacts.secondary-artifacts.two.files: is required",
        ),
        (
            "version: 0.2\nenv:\n  variables:\n    CODEBUILD_X: y\nphases: {}\n",
            "env.variables.CODEBUILD_X: names starting with CODEBUILD_ are reserved",
        ),
        (
            "version: 0.2\nenv:\n  variables:\n    1BAD: y\nphases: {}\n",
            "env.variables.1BAD: is not a variable name",
        ),
        (
            "version: 0.2\nenv:\n  exported-variables: [AWS_KEY]\nphases: {}\n",
            "env.exported-variables[0]: AWS_KEY cannot be exported",
        ),
        (
            "version: 0.2\nenv:\n  parameter-store: {P: /p}\n  exported-variables: [P]\n"
            "phases: {}\n",
            "env.exported-variables[0]: P holds a secret",
        ),
        (
            "version: 0.2\nenv:\n  shell: powershell.exe\nphases: {}\n",
            "env.shell: 'powershell.exe' is a Windows shell; use bash or /bin/sh",
        ),
        (
            "version: 0.2\nenv:\n  shell: zsh\nphases: {}\n",
            "env.shell: 'zsh' is not a supported shell",
        ),
        (
            "version: 0.2\nenv:\n  secrets-manager:\n    S: 'name:key:AWSCURRENT:v1'\nphases: {}\n",
            "env.secrets-manager.S: 'name:key:AWSCURRENT:v1' gives both a version stage",
        ),
        (
            "version: 0.2\nphases:\n  build:\n    runtime-versions: {java: 17}\n",
            "phases.build.runtime-versions: only the install phase",
        ),
        (
            "version: 0.2\nphases: {}\nreports:\n  r:\n    files: [x]\n    file-format: XUNIT\n",
            "reports.r.file-format: 'XUNIT' is not a report format",
        ),
        (
            "version: 0.2\nphases: {}\ncache:\n  paths: ['/a/../../etc/**']\n",
            "cache.paths[0]: artifact path pattern 'a/../../etc/**' contains '..'",
        ),
        (
            "version: 0.2\nphases: {}\ncache:\n  paths: [x]\n  action: both\n",
            "cache.action: 'both' is not restore or save",
        ),
        (
            "version: 0.1\nenv:\n  variables: {A: b}\nphases: {}\n",
            "env: version 0.1 calls this section 'environment_variables'",
        ),
    ],
)
def test_validation_errors_name_the_key_path_and_the_fix(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in problem for problem in found), found


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(BuildspecError) as caught:
        parse(
            """
            version: 0.2
            env:
              shell: zsh
            phases:
              build:
                on-failure: SOMETIMES
                commands: [make]
            artifacts:
              base-directory: out
            """
        )
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("3 problems in the buildspec:\n- env.shell: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 0.2\nversion: 0.1\nphases: {}\n", "key 'version' appears twice"),
        ("version: 0.2\nphases: [\n", "is not valid YAML"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("version: 0.2\nphases: {}\n---\nversion: 0.2\n", "holds 2 YAML documents"),
        ("version: !!python/object/apply:os.system ['echo hi']\n", "not valid YAML"),
        ("[" * 700 + "]" * 700, "nests too deeply"),
    ],
)
def test_hostile_or_broken_yaml_is_refused_clearly(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in problem for problem in found), found


def test_yaml_aliases_cannot_expand_without_bound() -> None:
    lines = ["version: 0.2", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    lines.append("phases:\n  build:\n    commands: *a8")
    found = problems("\n".join(lines) + "\n")
    assert "expands to more than" in found[0]


def test_a_buildspec_over_the_size_cap_is_refused_before_parsing() -> None:
    text = "version: 0.2\n#" + "x" * MAX_BUILDSPEC_BYTES + "\nphases: {}\n"
    assert "the limit is" in problems(text)[0]


def test_yes_no_and_numbers_stay_as_written() -> None:
    spec = parse(
        """
        version: "0.2"
        env:
          variables: {ON: on, OCTAL: 0755, FLOAT: 1.10}
        phases:
          build:
            commands: [true, no, 12]
        """
    )
    assert dict(spec.env.variables) == {"ON": "on", "OCTAL": "0755", "FLOAT": "1.10"}
    assert spec.build is not None and spec.build.commands == ("true", "no", "12")


def test_secret_references_split_like_secrets_manager_reads_them() -> None:
    assert parse_secret_reference("TestSecret:MY_SECRET_VAR") == SecretReference(
        secret_id="TestSecret", json_key="MY_SECRET_VAR"
    )
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"
    assert parse_secret_reference(f"{arn}:key::version-1") == SecretReference(
        secret_id=arn, json_key="key", version_id="version-1"
    )
    with pytest.raises(ValueError, match="no secret id"):
        parse_secret_reference(":key")

"""Where builds run: ``--build-executor auto|host|docker``.

No test here needs a container engine. The ``auto`` and ``docker`` fallbacks
are checked against engines that do not answer. The container tests put a
fake ``docker`` (or ``podman``) first on PATH: a small script that records
the arguments stageline gives it and, for ``run``, starts the shell locally
in the ``-w`` directory instead of in a container. They check the command
stageline issues and how it drives and stops it, not a real container.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stageline.builds import BuildInfo, PhaseType, Status
from stageline.builds.engines import find_engine, forget_engines
from stageline.builds.executors import (
    FALLBACK_IMAGE_ENV,
    ContainerExecutor,
    HostExecutor,
    select_executor,
)
from stageline.config import ConfigError, Settings
from tests.unit.builds.conftest import RunSpec, alive, wait_for_file

IMAGE = "public.ecr.aws/docker/library/alpine:3"

FAKE_ENGINE = """\
#!{python}
# A stand-in for a container engine CLI: records its arguments, runs `run` locally.
import json, os, signal, sys

STATE = {state!r}
args = sys.argv[1:]
with open(os.path.join(STATE, "calls.jsonl"), "a") as f:
    f.write(json.dumps(args) + "\\n")
verb = args[0] if args else ""
if verb == "info":
    if {reachable!r}:
        print(json.dumps({info!r}))
        sys.exit(0)
    print("Cannot connect to the engine. Is the daemon running?", file=sys.stderr)
    sys.exit(1)
if verb == "image":
    sys.exit(1 if "missing" in args[-1] else 0)
if verb == "pull":
    if "unpullable" in args[-1]:
        print("Error response from daemon: pull access denied", file=sys.stderr)
        sys.exit(1)
    print(args[-1])
    sys.exit(0)
if verb == "kill":
    try:
        with open(os.path.join(STATE, args[1] + ".pid")) as f:
            os.killpg(int(f.read()), signal.SIGKILL)
    except (OSError, ValueError):
        print("Error: No such container: " + args[1], file=sys.stderr)
        sys.exit(1)
    sys.exit(0)
if verb == "run":
    rest, opts = args[1:], {{}}
    while rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in ("--name", "--mount", "-w", "--user"):
            opts[flag] = rest.pop(0)
    image, command = rest[0], rest[1:]
    if "broken" in image:
        print("Error response from daemon: no such shell in the image", file=sys.stderr)
        sys.exit(125)
    with open(os.path.join(STATE, opts["--name"] + ".pid"), "w") as f:
        f.write(str(os.getpid()))
    os.chdir(opts["-w"])
    os.execvp(command[0], command)
sys.exit(2)
"""


@pytest.fixture(autouse=True)
def _fresh_probes() -> Iterator[None]:
    forget_engines()
    yield
    forget_engines()


class FakeEngine:
    """The fake engine's record of what it was asked to do."""

    def __init__(self, state: Path) -> None:
        self.state = state

    @property
    def calls(self) -> list[list[str]]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def verbs(self, verb: str) -> list[list[str]]:
        return [call for call in self.calls if call[0] == verb]


def install_engine(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    name: str = "docker",
    reachable: bool = True,
    info: dict[str, object] | None = None,
) -> FakeEngine:
    """Put a fake engine called ``name`` first on PATH."""
    bin_dir, state = tmp_path / "fake-bin", tmp_path / "fake-state"
    bin_dir.mkdir(exist_ok=True)
    state.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(
        FAKE_ENGINE.format(
            python=sys.executable,
            state=str(state),
            reachable=reachable,
            info=info or {"ServerVersion": "fake"},
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return FakeEngine(state)


SPEC = """
version: 0.2
phases:
  build:
    commands:
      - echo "secret is $SECRET"
      - pwd
"""


# -- auto and docker without an engine ---------------------------------------------------


@pytest.mark.skipif(find_engine()[0] is not None, reason="a container engine is reachable here")
def test_auto_without_a_reachable_engine_runs_on_the_host_and_says_so(run_spec: RunSpec) -> None:
    executor = select_executor("auto", "aws/codebuild/standard:7.0")
    ran = run_spec(
        "version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n",
        info=BuildInfo(project="demo", image="aws/codebuild/standard:7.0"),
        executor=executor,
    )
    assert ran.runner_lines[0] == (
        "image aws/codebuild/standard:7.0 requested; no container engine reachable; "
        "running on the host"
    )
    assert ran.result.status is Status.SUCCEEDED
    assert ran.output == ["hi"]


def test_auto_falls_back_when_the_engine_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch, reachable=False)
    executor = select_executor("auto", IMAGE, engines=("docker",))
    assert isinstance(executor, HostExecutor)
    assert (
        executor.note
        == f"image {IMAGE} requested; no container engine reachable; running on the host"
    )
    select_executor("auto", IMAGE, engines=("docker",))
    assert len(engine.verbs("info")) == 1, "the probe's answer is cached"


def test_auto_without_an_image_runs_on_the_host_without_probing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    executor = select_executor("auto", None, engines=("docker",))
    assert isinstance(executor, HostExecutor)
    assert executor.note == "no image requested; running on the host"
    assert engine.calls == []


def test_docker_mode_without_an_engine_fails_provisioning_with_the_fix(
    run_spec: RunSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_engine(tmp_path, monkeypatch, reachable=False)
    ran = run_spec(
        SPEC, executor=select_executor("docker", IMAGE, engines=("docker", "no-such-engine"))
    )
    assert ran.result.status is Status.FAILED
    assert ran.status(PhaseType.PROVISIONING) == "FAILED"
    failure = ran.result.failure
    assert failure is not None and failure.status_code == "CLIENT_ERROR"
    assert "docker: Cannot connect to the engine" in failure.message
    assert "no-such-engine: not installed" in failure.message
    assert failure.message.endswith("start Docker or Podman, or use --build-executor host")
    assert ran.output == []


def test_host_mode_runs_on_the_host_as_before(run_spec: RunSpec, source: Path) -> None:
    executor = select_executor("host", IMAGE)
    assert isinstance(executor, HostExecutor) and executor.note is None
    ran = run_spec(SPEC, env={"SECRET": "s3"}, executor=executor)
    assert ran.runner_lines[0] == "Entering phase PROVISIONING"
    assert any(
        line.startswith("Running the build's commands in one sh shell as ")
        for line in ran.runner_lines
    )
    assert ran.output == ["secret is s3", str(source)]


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="must be one of auto, host, docker"):
        select_executor("kubernetes", IMAGE)


# -- the container command (fake engine) -------------------------------------------------


def test_the_container_command_mounts_the_paths_and_keeps_values_off_the_command_line(
    run_spec: RunSpec, tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    executor = select_executor("auto", IMAGE, engines=("docker",))
    info = BuildInfo(project="demo", image=IMAGE)
    ran = run_spec(SPEC, info=info, env={"SECRET": "s3cr3t value"}, executor=executor)
    assert ran.result.status is Status.SUCCEEDED, ran.lines
    assert ran.runner_lines[0] == f"image {IMAGE} requested; running in a docker container"
    assert ran.output == ["secret is s3cr3t value", str(source)]

    [run] = engine.verbs("run")
    name = "stageline-build-" + info.build_id.replace(":", "-")
    assert run[:7] == ["run", "--rm", "-i", "--init", "--name", name, "--user"]
    assert run[7] == f"{os.getuid()}:{os.getgid()}"
    mounts = {run[i + 1] for i, arg in enumerate(run) if arg == "--mount"}
    assert mounts == {
        f"type=bind,source={path},target={path}" for path in (tmp_path / "ws", source)
    }
    workdir = run.index("-w")
    assert run[workdir + 1 : workdir + 4] == [str(source), IMAGE, "sh"]
    assert Path(run[-1]).parent.parent == tmp_path / "ws", "the driver is in the control dir"
    assert not any("s3cr3t" in arg for call in engine.calls for arg in call)
    assert engine.verbs("kill") == [], "a shell that ends by itself ends its container"


def test_the_env_file_is_private_and_holds_any_value(tmp_path: Path) -> None:
    executor = ContainerExecutor(engine="docker", image=IMAGE).bind(
        build_id="demo:1", paths=[tmp_path]
    )
    env, notes = executor.adapt_env(
        {"A": "two\nlines 'quoted'", "BAD-NAME": "x"}, control_dir=tmp_path
    )
    assert notes == [
        "Variable 'BAD-NAME' is not passed into the container: not a shell variable name"
    ]
    launch = executor.launch(
        shell="sh",
        driver=tmp_path / "driver.sh",
        cwd=tmp_path,
        env=env,
        control_dir=tmp_path,
        start=1,
    )
    assert launch.env_script is not None
    assert stat.S_IMODE(launch.env_script.stat().st_mode) == 0o600
    assert "two\nlines" in launch.env_script.read_text()
    assert not any("two" in arg for arg in launch.argv)


def test_aws_only_images_are_replaced_by_the_fallback_image(
    run_spec: RunSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    monkeypatch.setenv(FALLBACK_IMAGE_ENV, "example.org/builder:1")
    executor = select_executor("docker", "aws/codebuild/standard:7.0", engines=("docker",))
    ran = run_spec(
        SPEC, executor=executor, info=BuildInfo(project="demo", image="aws/codebuild/standard:7.0")
    )
    assert ran.runner_lines[0] == (
        "image aws/codebuild/standard:7.0 exists only inside AWS CodeBuild; running in "
        f"example.org/builder:1 with docker instead (set {FALLBACK_IMAGE_ENV} to choose another)"
    )
    [run] = engine.verbs("run")
    assert "example.org/builder:1" in run and "aws/codebuild/standard:7.0" not in run


def test_a_missing_image_is_pulled_in_provisioning(
    run_spec: RunSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    ran = run_spec(
        SPEC, executor=select_executor("docker", "example.org/missing:1", engines=("docker",))
    )
    assert ran.result.status is Status.SUCCEEDED
    assert "Pulling image example.org/missing:1 with docker" in ran.runner_lines
    assert engine.verbs("pull") == [["pull", "--quiet", "example.org/missing:1"]]

    unpullable = "example.org/missing-unpullable:1"
    failed = run_spec(SPEC, executor=select_executor("docker", unpullable, engines=("docker",)))
    assert failed.status(PhaseType.PROVISIONING) == "FAILED"
    failure = failed.result.failure
    assert failure is not None and failure.status_code == "CLIENT_ERROR"
    assert (
        failure.message
        == f"cannot pull image {unpullable} with docker: Error response from daemon: pull access denied"
    )


def test_an_image_whose_shell_cannot_start_fails_download_source(
    run_spec: RunSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_engine(tmp_path, monkeypatch)
    ran = run_spec(
        SPEC, executor=select_executor("docker", "example.org/broken:1", engines=("docker",))
    )
    assert ran.status(PhaseType.DOWNLOAD_SOURCE) == "FAILED"
    failure = ran.result.failure
    assert failure is not None and "did not start in image example.org/broken:1" in failure.message
    assert "exit status 125" in failure.message
    assert "Error response from daemon: no such shell in the image" in ran.output


def test_a_command_that_ends_the_shell_gets_a_new_container(
    run_spec: RunSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands: [export KEPT=yes, exit 3]
          post_build:
            commands: [echo "post $KEPT $CODEBUILD_BUILD_SUCCEEDING"]
        """,
        executor=select_executor("docker", IMAGE, engines=("docker",)),
    )
    assert ran.output == ["post yes 0"]
    names = [run[run.index("--name") + 1] for run in engine.verbs("run")]
    assert len(names) == 2 and names[1] == names[0] + "-2"


def test_podman_rootless_keeps_the_agents_uid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_engine(
        tmp_path, monkeypatch, name="podman", info={"host": {"security": {"rootless": True}}}
    )
    executor = select_executor("docker", IMAGE, engines=("no-such-engine", "podman"))
    assert isinstance(executor, ContainerExecutor) and executor.rootless
    launch = executor.bind(build_id="demo:1", paths=[tmp_path]).launch(
        shell="bash", driver=tmp_path / "d.sh", cwd=tmp_path, env={}, control_dir=tmp_path, start=1
    )
    assert "--userns=keep-id" in launch.argv and "--user" not in launch.argv
    assert launch.argv[-2:] == ["bash", str(tmp_path / "d.sh")]


# -- stopping a container build (fake engine) --------------------------------------------


def test_a_timeout_kills_the_container_and_the_local_process_tree(
    run_spec: RunSpec, tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    info = BuildInfo(project="demo", image=IMAGE)
    started = time.monotonic()
    ran = run_spec(
        """
        version: 0.2
        phases:
          build:
            commands:
              - sh -c 'echo $$ > child.pid; sleep 1000'
        """,
        info=info,
        timeout_s=1.5,
        executor=select_executor("docker", IMAGE, engines=("docker",)),
    )
    assert time.monotonic() - started < 10
    assert ran.result.status is Status.TIMED_OUT
    assert engine.verbs("kill") == [["kill", "stageline-build-" + info.build_id.replace(":", "-")]]
    assert not alive(int((source / "child.pid").read_text()))


def test_stop_build_kills_the_container(
    run_spec: RunSpec, tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = install_engine(tmp_path, monkeypatch)
    cancel = threading.Event()

    def cancel_when_started() -> None:
        wait_for_file(source / "started")
        cancel.set()

    thread = threading.Thread(target=cancel_when_started)
    thread.start()
    ran = run_spec(
        textwrap.dedent(
            """
            version: 0.2
            phases:
              build:
                commands:
                  - sh -c 'echo $$ > started; exec sleep 1000'
            """
        ),
        cancel=cancel,
        executor=select_executor("docker", IMAGE, engines=("docker",)),
    )
    thread.join()
    assert ran.result.status is Status.STOPPED
    assert len(engine.verbs("kill")) == 1
    assert not alive(int((source / "started").read_text()))


def test_settings_refuse_an_unknown_executor(tmp_path: Path) -> None:
    Settings(data_dir=tmp_path, build_executor="docker").check()
    with pytest.raises(ConfigError, match="must be one of auto, host, docker"):
        Settings(data_dir=tmp_path, build_executor="vm").check()

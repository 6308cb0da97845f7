"""Where a build's shell runs: on this machine, or in the project's image under Docker or Podman.

CodeBuild runs every build in a fresh container of the project's image.
stageline can do the same when a container engine is reachable, and can also
run a build as a plain subprocess of the agent (the machine's own tools, a
clean environment, a fresh workspace directory). The operator picks per
server or agent with ``--build-executor``:

``host``
    always on this machine (:class:`HostExecutor`).
``docker``
    always in a container (:class:`ContainerExecutor`), with ``docker`` or
    ``podman``, whichever answers first. No reachable engine fails the build
    in PROVISIONING with a CLIENT_ERROR that names the fix.
``auto`` (the default)
    in a container when the project names an image and an engine is
    reachable, otherwise on the host, saying so in the build log's first line.

A container gets the workspace, the source directories and the runner's
control directory mounted at the same paths as on the host, so the paths
the runner writes into its driver script and reads results from work
unchanged; it runs as the agent's uid and gid, so what the build writes is
the agent's to clean up. The environment goes in through a file in the
control directory (mode 0600) that the driver sources and deletes, never on
a command line. Artifacts and the cache are copied by the runner on the host
and are not mounted.

``aws/codebuild/*`` images exist only inside AWS; in a container they are
replaced by :data:`DEFAULT_FALLBACK_IMAGE` (or ``STAGELINE_BUILD_FALLBACK_IMAGE``).
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
import shlex
import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stageline.builds.engines import ENGINES, engine_call, find_engine, last_line, run_stoppable
from stageline.config import BUILD_EXECUTORS
from stageline.runner.shell import DEFAULT_PATH, build_clean_env

#: What runs instead of an ``aws/codebuild/*`` image, which cannot be pulled outside AWS.
DEFAULT_FALLBACK_IMAGE = "public.ecr.aws/codebuild/amazonlinux2-x86_64-standard:5.0"
FALLBACK_IMAGE_ENV = "STAGELINE_BUILD_FALLBACK_IMAGE"
AWS_ONLY_IMAGE_PREFIX = "aws/codebuild/"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOT_IN_CONTAINER_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
# The host's account and tool locations: meaningless inside an image, which has its own.
_HOST_FACTS = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR")

SayFn = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Launch:
    """How to start one build shell: the process to run and what its driver sources first."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    #: A file of ``export`` lines the driver sources (and deletes) before the first command.
    env_script: Path | None = None


class Executor(ABC):
    """Where a build's shell runs; :func:`select_executor` picks one, ``run_build`` uses it.

    An executor is bound to one build (:meth:`bind`) before its shell starts;
    :class:`~stageline.builds.session.ShellSession` asks it how to start the
    shell (:meth:`launch`) and how to stop what it started (:meth:`kill`).
    """

    #: A line for the top of the build log saying where the build runs, if worth saying.
    note: str | None = None
    #: Why builds cannot run here; the build fails in PROVISIONING with this as CLIENT_ERROR.
    problem: str | None = None
    #: Whose tools the commands use, for the log ("the machine's", "the image's").
    tools: str = "the machine's"
    #: Whether the build sees its own filesystem, so absolute cache paths are not the host's.
    isolated: bool = False

    @abstractmethod
    def bind(self, *, build_id: str, paths: Iterable[Path]) -> Executor:
        """This executor for one build, whose commands need ``paths`` (workspace, sources)."""

    @abstractmethod
    def describe(self) -> str:
        """Where and as whom the commands run, for the log ("as alice")."""

    def prepare(
        self, *, say: SayFn, deadline: float | None, cancel: threading.Event | None
    ) -> str | None:
        """Get ready to start shells (pull the image); the problem if that failed."""
        return self.problem

    def adapt_env(
        self, env: Mapping[str, str], *, control_dir: Path
    ) -> tuple[dict[str, str], list[str]]:
        """The build's environment as this executor passes it, and notes for the log."""
        return dict(env), []

    @abstractmethod
    def shell_path(self, shell: str, search_path: str) -> str:
        """The shell to run (raises FileNotFoundError when there is none)."""

    @abstractmethod
    def env_binary(self, search_path: str) -> str:
        """The ``env`` program the driver dumps the environment with."""

    @abstractmethod
    def launch(
        self,
        *,
        shell: str,
        driver: Path,
        cwd: Path,
        env: Mapping[str, str],
        control_dir: Path,
        start: int,
    ) -> Launch:
        """How to start shell number ``start`` (1, then 2… after a command ended a shell)."""

    @abstractmethod
    def kill(self, start: int) -> None:
        """Stop what shell number ``start`` runs in, beyond the local process tree."""


@dataclass(frozen=True, kw_only=True)
class HostExecutor(Executor):
    """The build runs on this machine, a subprocess of the agent with a clean environment."""

    note: str | None = None

    def bind(self, *, build_id: str, paths: Iterable[Path]) -> HostExecutor:
        return self

    def describe(self) -> str:
        return f"as {host_user()}"

    def shell_path(self, shell: str, search_path: str) -> str:
        found = shutil.which(shell, path=search_path)
        if found is None:
            raise FileNotFoundError(f"shell {shell!r} was not found on PATH {search_path!r}")
        return found

    def env_binary(self, search_path: str) -> str:
        # An absolute path, so a build that empties PATH still gets its environment dumped.
        return (
            shutil.which("env", path=search_path) or shutil.which("env", path=DEFAULT_PATH) or "env"
        )

    def launch(
        self,
        *,
        shell: str,
        driver: Path,
        cwd: Path,
        env: Mapping[str, str],
        control_dir: Path,
        start: int,
    ) -> Launch:
        return Launch(argv=[shell, str(driver)], env=dict(env), cwd=cwd)

    def kill(self, start: int) -> None:
        pass  # the local process tree is all there is


@dataclass(frozen=True, kw_only=True)
class ContainerExecutor(Executor):
    """The build runs in ``image`` under ``engine`` (``docker`` or ``podman``), one container per shell.

    Containers are ``<engine> run --rm -i --init --name stageline-build-<id>``:
    the control pipe is the container's stdin, ``--init`` reaps what the build
    leaves behind, and the container, with everything in it, ends with the
    shell. A command that ends the shell gets a new container; files outside
    the mounted directories do not carry over to it.
    """

    engine: str
    image: str
    #: The engine program to run (a path); ``engine`` when not given.
    binary: str = ""
    #: The engine maps the agent's user to root in its containers (rootless Docker or Podman).
    rootless: bool = False
    note: str | None = None
    problem: str | None = None
    tools: str = "the image's"
    isolated: bool = True
    name: str = "stageline-build"
    mounts: tuple[Path, ...] = ()

    def bind(self, *, build_id: str, paths: Iterable[Path]) -> ContainerExecutor:
        safe = _NOT_IN_CONTAINER_NAME.sub("-", build_id).strip("-.") or "build"
        return dataclasses.replace(self, name=f"stageline-build-{safe}", mounts=_outermost(paths))

    def describe(self) -> str:
        return f"in image {self.image} ({self.engine}) as {self._user_label()}"

    def prepare(
        self, *, say: SayFn, deadline: float | None, cancel: threading.Event | None
    ) -> str | None:
        if self.problem:
            return self.problem
        for path in self.mounts:
            if "," in str(path):
                return f"cannot mount {str(path)!r} into a container: the path holds a comma"
        present = engine_call([self._binary, "image", "inspect", self.image])
        if present.returncode == 0:
            return None
        say(f"Pulling image {self.image} with {self.engine}")
        code, output, stopped = run_stoppable(
            [self._binary, "pull", "--quiet", self.image], deadline=deadline, cancel=cancel
        )
        if stopped is not None:
            return f"pulling image {self.image} was stopped ({stopped})"
        if code != 0:
            return f"cannot pull image {self.image} with {self.engine}: {last_line(output)}"
        return None

    def adapt_env(
        self, env: Mapping[str, str], *, control_dir: Path
    ) -> tuple[dict[str, str], list[str]]:
        host = build_clean_env()
        adapted = {k: v for k, v in env.items() if not (k in _HOST_FACTS and host.get(k) == v)}
        notes = [
            f"Variable {name!r} is not passed into the container: not a shell variable name"
            for name in adapted
            if not _NAME.fullmatch(name)
        ]
        adapted = {k: v for k, v in adapted.items() if _NAME.fullmatch(k)}
        if not self._root_inside() and "HOME" not in adapted:
            # The agent's uid has no home in the image; give it a writable one for ~/.cache etc.
            home = control_dir / "home"
            home.mkdir(exist_ok=True)
            adapted["HOME"] = str(home)
        return adapted, notes

    def shell_path(self, shell: str, search_path: str) -> str:
        return shell  # found on the image's PATH, not this machine's

    def env_binary(self, search_path: str) -> str:
        return "/usr/bin/env"

    def launch(
        self,
        *,
        shell: str,
        driver: Path,
        cwd: Path,
        env: Mapping[str, str],
        control_dir: Path,
        start: int,
    ) -> Launch:
        env_script = control_dir / f"env-{start}.sh"
        lines = (f"export {k}={shlex.quote(v)}\n" for k, v in env.items() if _NAME.fullmatch(k))
        fd = os.open(env_script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(lines)
        argv = [self._binary, "run", "--rm", "-i", "--init", "--name", self._container(start)]
        argv += self._user_args()
        for path in self.mounts:
            argv += ["--mount", f"type=bind,source={path},target={path}"]
        argv += ["-w", os.path.abspath(cwd), self.image, shell, str(driver)]
        # The engine CLI keeps the agent's environment (DOCKER_HOST, XDG_RUNTIME_DIR, …);
        # none of it reaches the container, which gets only the env script's variables.
        return Launch(argv=argv, env=dict(os.environ), cwd=control_dir, env_script=env_script)

    def kill(self, start: int) -> None:
        engine_call([self._binary, "kill", self._container(start)])

    @property
    def _binary(self) -> str:
        return self.binary or self.engine

    def _container(self, start: int) -> str:
        return self.name if start <= 1 else f"{self.name}-{start}"

    def _root_inside(self) -> bool:
        """Commands run as root in the container: the agent is root, or the engine is
        rootless Docker, whose root is the agent's user outside."""
        return os.getuid() == 0 or (self.rootless and self.engine != "podman")

    def _user_args(self) -> list[str]:
        if self.rootless and self.engine == "podman":
            return ["--userns=keep-id"]  # the agent's uid inside is the agent's uid outside
        if self.rootless:
            return []
        return ["--user", f"{os.getuid()}:{os.getgid()}"]

    def _user_label(self) -> str:
        if self._root_inside():
            return "root"
        return f"uid {os.getuid()}:{os.getgid()}"


def select_executor(
    mode: str,
    image: str | None,
    *,
    engines: Sequence[str] = ENGINES,
    fallback_image: str | None = None,
) -> Executor:
    """The executor for a build of ``image`` under ``--build-executor mode``.

    Raises ValueError for a mode other than ``auto``, ``host`` or ``docker``.
    ``docker`` without a reachable engine returns an executor whose
    :attr:`~Executor.problem` fails the build in PROVISIONING.
    """
    if mode not in BUILD_EXECUTORS:
        raise ValueError(f"build executor {mode!r} must be one of {', '.join(BUILD_EXECUTORS)}")
    if mode == "host":
        return HostExecutor()
    if mode == "auto" and not image:
        return HostExecutor(note="no image requested; running on the host")
    found, tried = find_engine(engines)
    if found is None:
        if mode == "auto":
            return HostExecutor(
                note=f"image {image} requested; no container engine reachable; running on the host"
            )
        problem = (
            f"--build-executor docker needs a container engine and none is reachable "
            f"({'; '.join(tried)}); start Docker or Podman, or use --build-executor host"
        )
        return ContainerExecutor(
            engine=engines[0] if engines else "docker", image=image or "", problem=problem
        )
    fallback = fallback_image or os.environ.get(FALLBACK_IMAGE_ENV) or DEFAULT_FALLBACK_IMAGE
    if not image:
        run_image, note = fallback, f"no image requested; running in {fallback} with {found.engine}"
    elif image.startswith(AWS_ONLY_IMAGE_PREFIX):
        run_image = fallback
        note = (
            f"image {image} exists only inside AWS CodeBuild; running in {fallback} with "
            f"{found.engine} instead (set {FALLBACK_IMAGE_ENV} to choose another)"
        )
    else:
        run_image, note = image, f"image {image} requested; running in a {found.engine} container"
    return ContainerExecutor(
        engine=found.engine,
        binary=found.binary,
        image=run_image,
        rootless=found.rootless,
        note=note,
    )


# -- helpers -------------------------------------------------------------------------------


def host_user() -> str:
    """Who the commands run as on this machine, for the log (a uid without a name in some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _outermost(paths: Iterable[Path]) -> tuple[Path, ...]:
    """Absolute forms of ``paths`` without those inside another (mounted with it)."""
    absolute = sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in absolute:
        if not any(path == k or path.is_relative_to(k) for k in kept):
            kept.append(path)
    return tuple(kept)

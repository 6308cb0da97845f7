"""Writing a commit's files into a directory: as plain files, or as a full clone.

Both are what a source action hands to later actions, and a repository is
written by whoever can push, so neither may put anything outside the target
directory. ``git archive`` is read as a tar *stream* (memory stays flat for a
1 GB tree, DESIGN.md §2.6) through tarfile's ``data`` filter, which refuses
absolute paths, ``..``, links that leave the directory and device files. A
clone is checked by walking it for symlinks that point outside.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import IO

from stageline.repos.errors import GitFailed, TreeTooLarge, UnsafeTree
from stageline.repos.gitcmd import Git

# DESIGN.md §5: AWS's limit for a git source artifact.
MAX_TREE_BYTES = 1024**3


def export_tree(
    git: Git, git_dir: Path, commit: str, dest: Path, *, max_bytes: int = MAX_TREE_BYTES
) -> int:
    """Extract the files of ``commit`` (a full object id) into ``dest``; returns bytes written."""
    dest.mkdir(parents=True, exist_ok=True)
    total = 0

    def guard(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
        nonlocal total
        if member.type == tarfile.XGLTYPE or member.name == "pax_global_header":
            return None  # git's comment header carrying the commit id, not a file
        try:
            checked = tarfile.data_filter(member, path)
        except tarfile.FilterError as exc:
            raise UnsafeTree(
                f"commit {commit[:12]} holds {member.name!r}, which would be written outside "
                f"the output directory ({exc}); fix or remove it in the repository"
            ) from exc
        total += checked.size
        if total > max_bytes:
            raise TreeTooLarge(
                f"commit {commit[:12]} holds more than {max_bytes} bytes of files, over the "
                "limit for a git source artifact"
            )
        return checked

    with tempfile.TemporaryFile() as stderr:
        proc = git.popen(["archive", "--format=tar", commit], git_dir=git_dir, stderr=stderr)
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                tar.extractall(dest, filter=guard)
        except tarfile.TarError as exc:
            # Usually git refused first (e.g. "invalid path"); its words beat tarfile's.
            proc.stdout.close()
            code, said = _finish(proc, stderr)
            raise GitFailed(
                f"git archive of {commit[:12]} failed (exit {code}): {said or exc}"
            ) from exc
        except BaseException:
            proc.kill()
            _finish(proc, stderr)
            raise
        finally:
            proc.stdout.close()
        code, said = _finish(proc, stderr)
        if code != 0:
            raise GitFailed(f"git archive of {commit[:12]} failed (exit {code}): {said}")
    return total


def _finish(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> tuple[int, str]:
    """Reap ``proc`` (killing it if it still runs) and return its exit code and stderr."""
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    stderr.seek(0)
    return code, stderr.read().decode(errors="replace").strip()[:2000]


def clone_at(
    git: Git,
    git_dir: Path,
    commit: str,
    dest: Path,
    *,
    branch: str,
    origin_url: str,
) -> None:
    """A full clone of ``git_dir`` in ``dest`` with ``branch`` checked out at ``commit``.

    ``origin`` is then pointed at ``origin_url`` (the HTTP clone URL when the server
    knows its own address) so a later action, possibly on another machine, can
    fetch from it; the local path the clone was made from means nothing there.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise GitFailed(f"cannot clone into {dest}: the directory is not empty")
    git.run(["clone", "--quiet", "--no-checkout", "--no-hardlinks", "--", str(git_dir), str(dest)])
    git.run(["checkout", "--quiet", "-B", branch, commit], cwd=dest)
    git.run(["remote", "set-url", "origin", origin_url], cwd=dest)
    has_remote_branch = git.run(
        ["rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}"],
        cwd=dest,
        check=False,
    )
    if has_remote_branch.returncode == 0:
        git.run(["branch", "--quiet", f"--set-upstream-to=origin/{branch}", branch], cwd=dest)
    check_no_escaping_links(dest, commit)


def check_no_escaping_links(root: Path, commit: str) -> None:
    """UnsafeTree if a symlink under ``root`` (outside ``.git``) points outside it."""
    base = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and ".git" in dirnames:
            dirnames.remove(".git")
        for entry in [*dirnames, *filenames]:
            path = Path(dirpath, entry)
            if not path.is_symlink():
                continue
            target = os.readlink(path)
            resolved = Path(os.path.normpath(Path(dirpath, target)))
            if os.path.isabs(target) or not resolved.is_relative_to(root):
                raise UnsafeTree(
                    f"commit {commit[:12]} holds a symbolic link {path.relative_to(root)} -> "
                    f"{target!r}, which points outside the output directory; fix or remove it"
                )
            if not path.resolve().is_relative_to(base):
                raise UnsafeTree(
                    f"commit {commit[:12]} holds a symbolic link {path.relative_to(root)} that "
                    "resolves outside the output directory; fix or remove it"
                )

"""Running users' commands on the agent's machine: one shell per action, nothing left behind."""

from stageline.runner.shell import ShellResult, build_clean_env, run_commands

__all__ = ["ShellResult", "build_clean_env", "run_commands"]

"""Agents: claim jobs, run providers in fresh workspaces, upload outputs, report results."""

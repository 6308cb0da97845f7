"""Compute action providers: commands run on the agent's machine."""

"""The execution engine: every state change of executions, stages, actions and jobs."""

"""How a change in a source starts a pipeline: push events, the event rules stageline
manages for pipelines, the event target that starts one, polling, and PutActionRevision.

Every start for a known revision goes through :func:`starts.start_for_revision`, which
records that revision as the action's last seen in the same transaction, so whichever
path notices a revision first starts the execution and the others (polling especially)
never start a second one for it, across restarts too.
"""

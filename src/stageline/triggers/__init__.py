"""What a git change is and which pipelines it starts.

``changes`` is the one shape every git host's push or pull request becomes,
``payloads`` reads GitHub, GitLab and Bitbucket Cloud webhook payloads into it,
``globs`` and ``filters`` are the V2 trigger filters of a pipeline declaration
(``triggers[].gitConfiguration``), ``declaration`` checks those declarations,
and ``router`` starts the pipelines a change concerns.

This package knows nothing of HTTP or SQL: callers hand it the pipelines, how
to start one and how to list a commit range's changed files.
"""

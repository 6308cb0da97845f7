"""The web console at ``/console``: server-rendered pages, live over server-sent events.

One module per page — ``pipelines`` (the list and the pipeline view),
``controls`` (release, stop, retry, approve, transitions), ``executions``
(history, detail, artifacts), ``logs``, ``editor`` and ``visual`` — on shared
parts: ``render`` (templates, escaping), ``live`` (the update hub),
``security`` (cross-site and rebinding guard), ``calls`` (the API's own
operations) and ``charts`` (SVG geometry). See docs/console.md.
"""

from stageline.console.routes import Console

__all__ = ["Console"]

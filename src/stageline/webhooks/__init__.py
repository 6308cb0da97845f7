"""CodePipeline webhooks (PutWebhook and its URLs) and the connection webhook URL.

``service`` holds the API operations, ``store`` the table, ``delivery`` what a
POST to a webhook URL does, ``auth`` and ``jsonfilters`` its two checks, and
``connection_hook`` the URL a git host posts a connection's pushes and pull
requests to. The HTTP edge is ``api.webhooks``.
"""

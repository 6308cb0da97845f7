"""Talking to a stageline server with boto3, exactly as any AWS client does."""

from __future__ import annotations

import os
from typing import Any

import click

DEFAULT_ENDPOINT = "http://127.0.0.1:8787"

endpoint_option = click.option(
    "--endpoint-url",
    envvar="STAGELINE_ENDPOINT_URL",
    default=DEFAULT_ENDPOINT,
    show_default=True,
    help="The stageline server to talk to (env STAGELINE_ENDPOINT_URL).",
)
output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Human-readable tables, or JSON for scripts.",
)


def client(endpoint_url: str, service: str = "codepipeline") -> Any:
    import boto3
    from botocore.config import Config

    # A local server needs no real credentials until authentication is on; boto3
    # still insists on having some to sign with.
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "stageline",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "stageline",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )


def call(endpoint_url: str, operation: str, *, service: str = "codepipeline", **params: Any) -> Any:
    """Call an operation and turn connection and API errors into clean CLI errors."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    method = getattr(client(endpoint_url, service), operation)
    try:
        return method(**params)
    except EndpointConnectionError as exc:
        raise click.ClickException(
            f"cannot reach a stageline server at {endpoint_url}; start one with `stageline server` "
            "or pass --endpoint-url"
        ) from exc
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise click.ClickException(f"{err.get('Code')}: {err.get('Message')}") from exc

"""The ``stageline`` command line."""

from __future__ import annotations

import click

from stageline import __version__
from stageline.cli.agent import agent
from stageline.cli.builds import build
from stageline.cli.connections import connection
from stageline.cli.events import events
from stageline.cli.functions import function
from stageline.cli.logs import logs
from stageline.cli.pipelines import apply, delete, get, lint, list_pipelines
from stageline.cli.repos import repo
from stageline.cli.run import run
from stageline.cli.secrets import secret
from stageline.cli.server import server
from stageline.cli.webhooks import webhook


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stageline")
def main() -> None:
    """stageline: AWS CodePipeline's model and API on your own machines.

    Start the service with `stageline server`; talk to it with boto3, the aws CLI
    (--endpoint-url) or the commands below.
    """


main.add_command(server)
main.add_command(agent)
main.add_command(run)
main.add_command(lint)
main.add_command(apply)
main.add_command(get)
main.add_command(list_pipelines)
main.add_command(delete)
main.add_command(repo)
main.add_command(function)
main.add_command(logs)
main.add_command(build)
main.add_command(secret)
main.add_command(events)
main.add_command(connection)
main.add_command(webhook)

"""``lint``, ``apply``, ``get``, ``list`` and ``delete``: pipelines as code and at the server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stageline.cli.client import call, endpoint_option, output_option

console = Console()
err_console = Console(stderr=True)


def _parse_parameters(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--parameter")
        out[key] = value
    return out


def _load(path: Path, parameters: tuple[str, ...], stack_name: str | None) -> list[Any]:
    from stageline.ascode import DefinitionError, load_pipeline_file

    try:
        return load_pipeline_file(
            path, parameters=_parse_parameters(parameters), stack_name=stack_name
        )
    except DefinitionError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc


parameter_option = click.option(
    "--parameter",
    "-p",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Value for a CloudFormation template parameter (repeatable).",
)
stack_option = click.option(
    "--stack-name", default=None, help="Stack name used for AWS::StackName and generated names."
)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@parameter_option
@stack_option
@click.option(
    "--endpoint-url",
    envvar="STAGELINE_ENDPOINT_URL",
    default=None,
    help="Also accept the custom action types registered at this server.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print problems only.")
def lint(
    files: tuple[Path, ...],
    parameters: tuple[str, ...],
    stack_name: str | None,
    endpoint_url: str | None,
    quiet: bool,
) -> None:
    """Check pipeline definitions without creating anything.

    FILES may be create-pipeline JSON or YAML (as `aws codepipeline get-pipeline`
    prints it) or CloudFormation templates (YAML or JSON, SAM and CDK output
    included) holding AWS::CodePipeline::Pipeline resources. Exits 1 when any
    pipeline would be refused.
    """
    from stageline.ascode import DefinitionError, load_pipeline_file
    from stageline.cli.linting import problems_of

    custom = _custom_types(endpoint_url) if endpoint_url else []
    failed = False
    for path in files:
        try:
            loaded = load_pipeline_file(
                path, parameters=_parse_parameters(parameters), stack_name=stack_name
            )
        except DefinitionError as exc:
            failed = True
            err_console.print(f"[red]✗[/] {escape(str(path))}: {escape(str(exc))}", highlight=False)
            continue
        for item in loaded:
            name = item.pipeline.get("name", "?")
            problems = problems_of(item.pipeline, custom)
            label = f"{path} [{item.origin}] pipeline '{name}'"
            if problems:
                failed = True
                err_console.print(f"[red]✗[/] {escape(label)}", highlight=False)
                for line in problems:
                    err_console.print(f"    {line}", markup=False, highlight=False)
            elif not quiet:
                console.print(f"[green]✓[/] {escape(label)}", highlight=False)
            if not quiet:
                for note in item.notes:
                    console.print(f"    [dim]note:[/] {escape(str(note))}", highlight=False)
    if failed:
        raise SystemExit(1)


def _custom_types(endpoint_url: str) -> list[Any]:
    from stageline.services.catalog import spec_from_custom

    result = call(endpoint_url, "list_action_types", actionOwnerFilter="Custom")
    return [spec_from_custom(t) for t in result.get("actionTypes", [])]


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@parameter_option
@stack_option
@endpoint_option
def apply(
    files: tuple[Path, ...], parameters: tuple[str, ...], stack_name: str | None, endpoint_url: str
) -> None:
    """Create or update the pipelines defined in FILES at the server.

    A pipeline that exists is updated (its version goes up by one); a new one is
    created, with its tags.
    """
    from botocore.exceptions import ClientError

    from stageline.cli.client import client

    cp = client(endpoint_url)
    for path in files:
        for item in _load(path, parameters, stack_name):
            decl = dict(item.pipeline)
            name = decl["name"]
            try:
                current = cp.get_pipeline(name=name)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "PipelineNotFoundException":
                    raise click.ClickException(_client_error(exc)) from exc
                current = None
            try:
                if current is None:
                    decl.pop("version", None)
                    params: dict[str, Any] = {"pipeline": decl}
                    if item.tags:
                        params["tags"] = item.tags
                    result = cp.create_pipeline(**params)
                    console.print(
                        f"[green]created[/] {name} (version {result['pipeline']['version']})",
                        highlight=False,
                    )
                else:
                    decl["version"] = current["pipeline"]["version"]
                    result = cp.update_pipeline(pipeline=decl)
                    console.print(
                        f"[green]updated[/] {name} (version {result['pipeline']['version']})",
                        highlight=False,
                    )
                for transition in item.disabled_transitions:
                    # CloudFormation's DisableInboundStageTransitions, applied as the console would
                    cp.disable_stage_transition(
                        pipelineName=name,
                        stageName=transition["stageName"],
                        transitionType="Inbound",
                        reason=transition.get("reason") or "disabled by the pipeline's template",
                    )
                    console.print(
                        f"  disabled the transition into {transition['stageName']}", highlight=False
                    )
            except ClientError as exc:
                raise click.ClickException(f"{path} [{item.origin}]: {_client_error(exc)}") from exc


def _client_error(exc: Any) -> str:
    err = exc.response.get("Error", {})
    return f"{err.get('Code')}: {err.get('Message')}"


@click.command()
@click.argument("name")
@click.option(
    "--version", "pipeline_version", type=int, default=None, help="Read an older version."
)
@endpoint_option
@click.option(
    "--output",
    "-o",
    type=click.Choice(["json", "yaml", "table"]),
    default="json",
    show_default=True,
)
def get(name: str, pipeline_version: int | None, endpoint_url: str, output: str) -> None:
    """Print a pipeline's declaration, as get-pipeline does."""
    params: dict[str, Any] = {"name": name}
    if pipeline_version is not None:
        params["version"] = pipeline_version
    result = call(endpoint_url, "get_pipeline", **params)
    result.pop("ResponseMetadata", None)
    if output == "json":
        click.echo(json.dumps(result, indent=2, default=str))
    elif output == "yaml":
        import yaml

        click.echo(yaml.safe_dump(json.loads(json.dumps(result, default=str)), sort_keys=False))
    else:
        pipeline = result["pipeline"]
        table = Table(
            title=f"{pipeline['name']} (version {pipeline['version']}, "
            f"{pipeline.get('pipelineType', 'V1')}, {pipeline.get('executionMode', 'SUPERSEDED')})"
        )
        for column in ("stage", "runOrder", "action", "provider", "inputs", "outputs"):
            table.add_column(column)
        for stage in pipeline["stages"]:
            for action in sorted(stage["actions"], key=lambda a: a.get("runOrder", 1)):
                t = action["actionTypeId"]
                table.add_row(
                    stage["name"],
                    str(action.get("runOrder", 1)),
                    action["name"],
                    f"{t['category']}/{t['owner']}/{t['provider']}",
                    ", ".join(a["name"] for a in action.get("inputArtifacts", [])),
                    ", ".join(a["name"] for a in action.get("outputArtifacts", [])),
                )
        console.print(table)


@click.command("list")
@endpoint_option
@output_option
def list_pipelines(endpoint_url: str, output: str) -> None:
    """List the pipelines at the server."""
    pipelines: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {"nextToken": token} if token else {}
        page = call(endpoint_url, "list_pipelines", **params)
        pipelines.extend(page.get("pipelines", []))
        token = page.get("nextToken")
        if not token:
            break
    if output == "json":
        click.echo(json.dumps({"pipelines": pipelines}, indent=2, default=str))
        return
    table = Table()
    for column in ("name", "version", "type", "mode", "updated"):
        table.add_column(column)
    for p in pipelines:
        table.add_row(
            p["name"],
            str(p["version"]),
            p.get("pipelineType", ""),
            p.get("executionMode", ""),
            str(p.get("updated", ""))[:19],
        )
    console.print(table)


@click.command()
@click.argument("name")
@endpoint_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, endpoint_url: str, yes: bool) -> None:
    """Delete a pipeline (all its versions)."""
    if not yes:
        click.confirm(f"Delete pipeline '{name}' and all its versions?", abort=True)
    call(endpoint_url, "delete_pipeline", name=name)
    console.print(f"deleted {name}", highlight=False)

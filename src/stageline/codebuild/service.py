"""CodeBuild's resources: build projects, builds and their test and coverage reports.

The API layer calls the operations by their AWS names; the pipeline's
CodeBuild provider and the StartBuild runner record a build's life through
:meth:`BuildService.begin_build`, :meth:`~BuildService.progress`,
:meth:`~BuildService.store_report` and :meth:`~BuildService.finish`. A build
that is running in this process registers its cancel event, so StopBuild
stops it at once; the stop is also stored, for whoever runs it elsewhere.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stageline.builds import BuildResult, PhaseContext, PhaseResult
from stageline.clock import ms_to_datetime
from stageline.codebuild import projects
from stageline.errors import error
from stageline.reports import (
    CoverageReport,
    TestReport,
    report_status,
    reported_cases,
    shape_code_coverage,
    shape_report,
    shape_test_case,
)
from stageline.services import paging
from stageline.services.context import ServiceContext
from stageline.store import builds as store

PAGE_SIZE = 100
FINAL = ("SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED")


def not_found(message: str) -> Exception:
    return error("ResourceNotFoundException", message)


class BuildService:
    def __init__(
        self, ctx: ServiceContext, *, log_url: Callable[[str], str | None] | None = None
    ) -> None:
        self.ctx = ctx
        self._log_url = log_url or (lambda _log_id: None)
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}

    # -- names ----------------------------------------------------------------------------------

    @property
    def _prefix(self) -> str:
        return f"arn:aws:codebuild:{self.ctx.region}:{self.ctx.account_id}:"

    def project_arn(self, name: str) -> str:
        return f"{self._prefix}project/{name}"

    def build_arn(self, build_id: str) -> str:
        return f"{self._prefix}build/{build_id}"

    def report_group_arn(self, project: str, group: str) -> str:
        if group.startswith("arn:"):
            return group
        return f"{self._prefix}report-group/{project}-{group}"

    def _project_name(self, name_or_arn: str) -> str:
        marker = ":project/"
        return name_or_arn.split(marker, 1)[1] if marker in name_or_arn else name_or_arn

    def _build_id(self, id_or_arn: str) -> str:
        marker = ":build/"
        return id_or_arn.split(marker, 1)[1] if marker in id_or_arn else id_or_arn

    # -- projects -------------------------------------------------------------------------------

    def create_project(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params["name"]
        document = projects.new_document(
            params,
            arn=self.project_arn(name),
            region=self.ctx.region,
            account_id=self.ctx.account_id,
        )
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            if store.get_project(conn, name) is not None:
                raise error(
                    "ResourceAlreadyExistsException",
                    f"project {name!r} already exists; use UpdateProject to change it",
                )
            store.insert_project(
                conn, name=name, arn=document["arn"], document=document, now_ms=now
            )
            row = store.get_project(conn, name)
        assert row is not None
        return {"project": _project_shape(row)}

    def update_project(self, params: dict[str, Any]) -> dict[str, Any]:
        name = self._project_name(params["name"])
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            row = store.get_project(conn, name)
            if row is None:
                raise not_found(f"project {name!r} does not exist; create it with CreateProject")
            document = projects.updated_document(row.document, params)
            store.update_project(conn, name, document, now)
            row = store.get_project(conn, name)
        assert row is not None
        return {"project": _project_shape(row)}

    def delete_project(self, params: dict[str, Any]) -> dict[str, Any]:
        # AWS answers DeleteProject of an unknown project with success.
        with self.ctx.db.write() as conn:
            store.delete_project(conn, self._project_name(params["name"]))
        return {}

    def batch_get_projects(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(dict.fromkeys(params["names"]))
        with self.ctx.db.read() as conn:
            found = store.get_projects(conn, [self._project_name(n) for n in wanted])
        return _without_empty(
            {
                "projects": [
                    _project_shape(found[self._project_name(n)])
                    for n in wanted
                    if self._project_name(n) in found
                ],
                "projectsNotFound": [n for n in wanted if self._project_name(n) not in found],
            }
        )

    def list_projects(self, params: dict[str, Any]) -> dict[str, Any]:
        descending = params.get("sortOrder", "ASCENDING") == "DESCENDING"
        sort_by = params.get("sortBy", "NAME")
        with self.ctx.db.read() as conn:
            names = store.list_projects(conn, sort_by=sort_by, descending=descending)
        page, token = _page(f"projects:{sort_by}:{descending}", names, params.get("nextToken"))
        return {"projects": page, **({"nextToken": token} if token else {})}

    def project(self, name: str) -> store.ProjectRow | None:
        with self.ctx.db.read() as conn:
            return store.get_project(conn, self._project_name(name))

    # -- a build's life -------------------------------------------------------------------------

    def begin_build(
        self,
        project: store.ProjectRow,
        *,
        initiator: str,
        source: dict[str, Any],
        environment: dict[str, Any],
        timeout_minutes: int,
        source_version: str | None = None,
        resolved_source_version: str | None = None,
        secondary_sources: Sequence[dict[str, Any]] = (),
        secondary_source_versions: Sequence[dict[str, Any]] = (),
        action_execution_id: str | None = None,
        log_id: str | None = None,
        build_id: str | None = None,
        start_params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record a new IN_PROGRESS build of ``project``; returns its ``Build`` shape."""
        build_id = build_id or f"{project.name}:{uuid.uuid4()}"
        log_id = log_id or "codebuild-" + build_id.rsplit(":", 1)[1]
        now = self.ctx.clock.now_ms()
        document: dict[str, Any] = {
            "source": source,
            "secondarySources": list(secondary_sources),
            "secondarySourceVersions": list(secondary_source_versions),
            "environment": environment,
            "serviceRole": project.document.get("serviceRole"),
            "timeoutInMinutes": timeout_minutes,
            "queuedTimeoutInMinutes": project.document.get("queuedTimeoutInMinutes"),
            "initiator": initiator,
            "encryptionKey": project.document.get("encryptionKey"),
            "cache": project.document.get("cache"),
            "currentPhase": "SUBMITTED",
            "phases": [],
            "logs": _logs(log_id, self._log_url(log_id)),
            "stageline": {"logId": log_id, "startBuild": dict(start_params or {})},
        }
        if source_version:
            document["sourceVersion"] = source_version
        if resolved_source_version:
            document["resolvedSourceVersion"] = resolved_source_version
        with self.ctx.db.write() as conn:
            number = store.next_build_number(conn, project.name)
            store.insert_build(
                conn,
                build_id=build_id,
                project_name=project.name,
                build_number=number,
                status="IN_PROGRESS",
                document=document,
                action_execution_id=action_execution_id,
                started_ms=now,
            )
            row = store.get_builds(conn, [build_id])[build_id]
        return self._build_shape(row)

    def log_id(self, build_id: str) -> str:
        with self.ctx.db.read() as conn:
            row = store.get_builds(conn, [build_id]).get(build_id)
        if row is None:
            raise not_found(f"build {build_id!r} does not exist")
        return str(row.document["stageline"]["logId"])

    def start_params(self, build_id: str) -> Mapping[str, Any]:
        """The StartBuild members a build was started with (for RetryBuild)."""
        with self.ctx.db.read() as conn:
            row = store.get_builds(conn, [build_id]).get(build_id)
        if row is None:
            raise not_found(f"build {build_id!r} does not exist")
        return dict(row.document.get("stageline", {}).get("startBuild") or {})

    def progress_phase(self, build_id: str, current: str) -> None:
        """Show which phase the build is in while it runs."""
        with self.ctx.db.write() as conn:
            row = store.get_builds(conn, [build_id]).get(build_id)
            if row is None or row.ended_ms is not None:
                return
            store.update_build(conn, build_id, document={**row.document, "currentPhase": current})

    def store_report(
        self, build_id: str, project: str, group: str, report: TestReport | CoverageReport
    ) -> str:
        """Keep one report group's report of a build; returns the report's ARN."""
        group_arn = self.report_group_arn(project, group)
        arn = f"{self._prefix}report/{group_arn.rsplit('/', 1)[1]}:{uuid.uuid4()}"
        now = self.ctx.clock.now_ms()
        kind = "TEST" if isinstance(report, TestReport) else "CODE_COVERAGE"
        document = shape_report(
            report,
            arn=arn,
            report_group_arn=group_arn,
            name=group_arn.rsplit("/", 1)[1],
            created_ms=now,
            execution_id=self.build_arn(build_id),
        )
        items: list[tuple[str | None, dict[str, Any]]]
        if isinstance(report, TestReport):
            items = [
                (case.status.value, shape_test_case(case, report_arn=arn))
                for case in reported_cases(report)
            ]
        else:
            items = [(None, shape_code_coverage(f, report_arn=arn)) for f in report.files]
        row = store.ReportRow(
            arn=arn,
            report_group_arn=group_arn,
            build_id=build_id,
            type=kind,
            status=report_status(report),
            document=document,
            created_ms=now,
        )
        with self.ctx.db.write() as conn:
            store.ensure_report_group(
                conn,
                arn=group_arn,
                name=group_arn.rsplit("/", 1)[1],
                project=project,
                kind=kind,
                now_ms=now,
            )
            store.insert_report(conn, row, items)
        return arn

    def finish(
        self,
        build_id: str,
        result: BuildResult,
        *,
        report_arns: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Record how the build ended; returns its ``Build`` shape."""
        with self.ctx.db.write() as conn:
            row = store.get_builds(conn, [build_id])[build_id]
            document = dict(row.document)
            document["phases"] = [_phase_shape(p) for p in result.phases]
            document["currentPhase"] = "COMPLETED"
            document["exportedEnvironmentVariables"] = [
                {"name": k, "value": v} for k, v in result.exported_variables.items()
            ]
            document["reportArns"] = list(report_arns)
            end_ms = int(result.end.timestamp() * 1000)
            store.update_build(
                conn, build_id, document=document, status=result.status.value, ended_ms=end_ms
            )
            row = store.get_builds(conn, [build_id])[build_id]
        return self._build_shape(row)

    def fail(self, build_id: str, message: str, *, status: str = "FAILED") -> dict[str, Any]:
        """End a build that could not run (no buildspec, a bad source) with ``message``."""
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            row = store.get_builds(conn, [build_id])[build_id]
            document = dict(row.document)
            start = ms_to_datetime(row.started_ms)
            document["phases"] = [
                *document.get("phases", []),
                {
                    "phaseType": document.get("currentPhase") or "SUBMITTED",
                    "phaseStatus": "FAILED" if status == "FAILED" else status,
                    "startTime": start.timestamp(),
                    "endTime": now / 1000,
                    "durationInSeconds": max(0, (now - row.started_ms) // 1000),
                    "contexts": [{"statusCode": "CLIENT_ERROR", "message": message}],
                },
            ]
            document["currentPhase"] = "COMPLETED"
            store.update_build(conn, build_id, document=document, status=status, ended_ms=now)
            row = store.get_builds(conn, [build_id])[build_id]
        return self._build_shape(row)

    def recover(self) -> int:
        """Builds left unfinished by a previous run of the server end as FAULT (at start)."""
        with self.ctx.db.read() as conn:
            ids = store.unfinished_build_ids(conn)
        for build_id in ids:
            if build_id not in self._running:
                self.fail(
                    build_id,
                    "the stageline server stopped while this build ran; start it again",
                    status="FAULT",
                )
        return len(ids)

    # -- running builds -------------------------------------------------------------------------

    def register_running(self, build_id: str, cancel: threading.Event) -> None:
        with self._lock:
            self._running[build_id] = cancel

    def unregister_running(self, build_id: str) -> None:
        with self._lock:
            self._running.pop(build_id, None)

    def stop_requested(self, build_id: str) -> bool:
        with self.ctx.db.read() as conn:
            row = store.get_builds(conn, [build_id]).get(build_id)
        return bool(row and row.stop_requested)

    def stop_build(self, params: dict[str, Any]) -> dict[str, Any]:
        build_id = self._build_id(params["id"])
        with self.ctx.db.write() as conn:
            row = store.get_builds(conn, [build_id]).get(build_id)
            if row is None:
                raise not_found(f"build {build_id!r} does not exist")
            if row.ended_ms is None:
                store.request_stop(conn, build_id)
        with self._lock:
            cancel = self._running.get(build_id)
        if cancel is not None:
            cancel.set()
        return {"build": self._build_shape(row)}

    # -- reading builds -------------------------------------------------------------------------

    def batch_get_builds(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(dict.fromkeys(params["ids"]))
        ids = {w: self._build_id(w) for w in wanted}
        with self.ctx.db.read() as conn:
            found = store.get_builds(conn, ids.values())
        return _without_empty(
            {
                "builds": [self._build_shape(found[ids[w]]) for w in wanted if ids[w] in found],
                "buildsNotFound": [w for w in wanted if ids[w] not in found],
            }
        )

    def build(self, build_id: str) -> dict[str, Any]:
        with self.ctx.db.read() as conn:
            row = store.get_builds(conn, [self._build_id(build_id)]).get(self._build_id(build_id))
        if row is None:
            raise not_found(f"build {build_id!r} does not exist")
        return self._build_shape(row)

    def list_builds_for_project(self, params: dict[str, Any]) -> dict[str, Any]:
        name = self._project_name(params["projectName"])
        descending = params.get("sortOrder", "DESCENDING") == "DESCENDING"
        with self.ctx.db.read() as conn:
            if store.get_project(conn, name) is None:
                raise not_found(f"project {name!r} does not exist")
            ids = store.list_build_ids(conn, project=name, descending=descending)
        page, token = _page(f"builds:{name}:{descending}", ids, params.get("nextToken"))
        return {"ids": page, **({"nextToken": token} if token else {})}

    def list_builds(self, params: dict[str, Any]) -> dict[str, Any]:
        descending = params.get("sortOrder", "DESCENDING") == "DESCENDING"
        with self.ctx.db.read() as conn:
            ids = store.list_build_ids(conn, project=None, descending=descending)
        page, token = _page(f"builds::{descending}", ids, params.get("nextToken"))
        return {"ids": page, **({"nextToken": token} if token else {})}

    def _build_shape(self, row: store.BuildRow) -> dict[str, Any]:
        shape = {k: v for k, v in row.document.items() if k != "stageline"}
        shape.update(
            id=row.id,
            arn=self.build_arn(row.id),
            buildNumber=row.build_number,
            projectName=row.project_name,
            startTime=ms_to_datetime(row.started_ms),
            buildStatus=row.status,
            buildComplete=row.ended_ms is not None,
        )
        if row.ended_ms is not None:
            shape["endTime"] = ms_to_datetime(row.ended_ms)
        return shape

    # -- reports --------------------------------------------------------------------------------

    def batch_get_reports(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(dict.fromkeys(params["reportArns"]))
        with self.ctx.db.read() as conn:
            found = store.get_reports(conn, wanted)
        return _without_empty(
            {
                "reports": [found[a].document for a in wanted if a in found],
                "reportsNotFound": [a for a in wanted if a not in found],
            }
        )

    def describe_test_cases(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["reportArn"]
        status = (params.get("filter") or {}).get("status")
        return self._items(arn, params, "testCases", status=status)

    def describe_code_coverages(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._items(params["reportArn"], params, "codeCoverages", status=None)

    def _items(
        self, arn: str, params: dict[str, Any], member: str, *, status: str | None
    ) -> dict[str, Any]:
        limit = int(params.get("maxResults") or 50)
        try:
            start = int(paging.decode(f"items:{arn}", params.get("nextToken")) or 0)
        except Exception as exc:
            raise error("InvalidInputException", "the nextToken is not valid") from exc
        with self.ctx.db.read() as conn:
            if not store.get_reports(conn, [arn]):
                raise not_found(f"report {arn!r} does not exist")
            rows = store.report_items_page(conn, arn, start=start, limit=limit + 1, status=status)
        out: dict[str, Any] = {member: [doc for _, doc in rows[:limit]]}
        if len(rows) > limit:
            out["nextToken"] = paging.encode(f"items:{arn}", rows[limit][0])
        return out

    def list_reports_for_report_group(self, params: dict[str, Any]) -> dict[str, Any]:
        group = params["reportGroupArn"]
        with self.ctx.db.read() as conn:
            if not store.get_report_groups(conn, [group]):
                raise not_found(f"report group {group!r} does not exist")
            arns = store.list_report_arns(
                conn,
                group_arn=group,
                status=(params.get("filter") or {}).get("status"),
                descending=params.get("sortOrder", "DESCENDING") == "DESCENDING",
            )
        page, token = _page(f"reports:{group}", arns, params.get("nextToken"))
        return {"reports": page, **({"nextToken": token} if token else {})}

    def list_reports(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.db.read() as conn:
            arns = store.list_report_arns(
                conn,
                group_arn=None,
                status=(params.get("filter") or {}).get("status"),
                descending=params.get("sortOrder", "DESCENDING") == "DESCENDING",
            )
        page, token = _page("reports:", arns, params.get("nextToken"))
        return {"reports": page, **({"nextToken": token} if token else {})}

    def list_report_groups(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.db.read() as conn:
            arns = store.list_report_group_arns(
                conn,
                sort_by=params.get("sortBy", "CREATED_TIME"),
                descending=params.get("sortOrder", "DESCENDING") == "DESCENDING",
            )
        page, token = _page("report-groups", arns, params.get("nextToken"))
        return {"reportGroups": page, **({"nextToken": token} if token else {})}

    def batch_get_report_groups(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = list(dict.fromkeys(params["reportGroupArns"]))
        with self.ctx.db.read() as conn:
            found = {r.arn: r for r in store.get_report_groups(conn, wanted)}
        return _without_empty(
            {
                "reportGroups": [
                    {
                        "arn": found[a].arn,
                        "name": found[a].name,
                        "type": found[a].type,
                        "exportConfig": {"exportConfigType": "NO_EXPORT"},
                        "created": ms_to_datetime(found[a].created_ms),
                        "lastModified": ms_to_datetime(found[a].modified_ms),
                        "status": "ACTIVE",
                    }
                    for a in wanted
                    if a in found
                ],
                "reportGroupsNotFound": [a for a in wanted if a not in found],
            }
        )


def _project_shape(row: store.ProjectRow) -> dict[str, Any]:
    return {
        **row.document,
        "created": ms_to_datetime(row.created_ms),
        "lastModified": ms_to_datetime(row.modified_ms),
    }


def _logs(log_id: str, url: str | None) -> dict[str, Any]:
    logs: dict[str, Any] = {
        "groupName": "stageline",
        "streamName": log_id,
        "cloudWatchLogs": {"status": "ENABLED", "groupName": "stageline", "streamName": log_id},
        "s3Logs": {"status": "DISABLED"},
    }
    if url:
        logs["deepLink"] = url
    return logs


def _phase_shape(phase: PhaseResult) -> dict[str, Any]:
    shape: dict[str, Any] = {"phaseType": phase.phase_type.value, "startTime": phase.start}
    if phase.status is not None:
        shape["phaseStatus"] = phase.status.value
    if phase.end is not None:
        shape["endTime"] = phase.end
        shape["durationInSeconds"] = int((phase.end - phase.start).total_seconds())
    if phase.contexts:
        shape["contexts"] = [_context(c) for c in phase.contexts]
    return {k: (v.timestamp() if hasattr(v, "timestamp") else v) for k, v in shape.items()}


def _context(context: PhaseContext) -> dict[str, str]:
    return {"statusCode": context.status_code, "message": context.message}


def _page(kind: str, items: list[Any], token: str | None) -> tuple[list[Any], str | None]:
    return paging.offset_page(kind, items, token, PAGE_SIZE, bad_token="InvalidInputException")


def _without_empty(response: dict[str, Any]) -> dict[str, Any]:
    """AWS leaves out an empty ``...NotFound`` list (the model requires at least one item)."""
    return {k: v for k, v in response.items() if v != [] or not k.endswith("NotFound")}

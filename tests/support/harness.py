"""An in-process stageline with a manual clock and no agent: tests play the job worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stageline.api.app import Services, build_services
from stageline.clock import ManualClock
from stageline.config import Settings
from stageline.definitions.catalog import ActionTypeKey
from stageline.store import executions as execution_store
from tests.support.declarations import action

SOURCE = ActionTypeKey(category="Source", owner="Custom", provider="FakeSource", version="1")
BUILD = ActionTypeKey(category="Build", owner="Custom", provider="FakeBuild", version="1")


def fake_source(name: str = "Source", output: str = "SourceOut", **extra: Any) -> dict[str, Any]:
    return action(name, "Source", "FakeSource", owner="Custom", outputs=(output,), **extra)


def fake_build(
    name: str, inputs: tuple[str, ...] = ("SourceOut",), outputs: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    return action(
        name, "Build", "FakeBuild", owner="Custom", inputs=inputs, outputs=outputs, **extra
    )


class Harness:
    def __init__(self, tmp: Path, database_url: str | None = None) -> None:
        self.clock = ManualClock()
        settings = Settings(data_dir=tmp, database_url=database_url, extra={"agent": "off"})
        self.services: Services = build_services(settings, clock=self.clock)
        self.rt = self.services.runtime
        for key, ins, outs in ((SOURCE, (0, 0), (1, 1)), (BUILD, (0, 5), (0, 5))):
            self.services.action_types.create_custom(
                {
                    "category": key.category,
                    "provider": key.provider,
                    "version": "1",
                    "configurationProperties": [
                        {"name": "Param", "required": False, "key": False, "secret": False}
                    ],
                    "inputArtifactDetails": {"minimumCount": ins[0], "maximumCount": ins[1]},
                    "outputArtifactDetails": {"minimumCount": outs[0], "maximumCount": outs[1]},
                }
            )

    def close(self) -> None:
        self.services.ctx.db.dispose()

    def create(self, decl: dict[str, Any]) -> str:
        self.services.pipelines.create(decl, [])
        return self.latest(decl["name"])

    def start(self, name: str, **kw: Any) -> str:
        return self.rt.operations.start(name, **kw)

    def latest(self, name: str) -> str:
        items, _ = self.rt.queries.list_executions(
            name, max_results=1, next_token=None, succeeded_in_stage=None
        )
        return str(items[0]["pipelineExecutionId"])

    def status(self, name: str, execution_id: str) -> str:
        return str(self.rt.queries.execution(name, execution_id)["status"])

    def actions(self, execution_id: str) -> dict[str, str]:
        """Latest status of each action of an execution, by action name."""
        with self.services.ctx.db.read() as conn:
            rows = execution_store.latest_attempts(execution_store.actions_of(conn, execution_id))
        return {a.action_name: a.status for a in rows.values()}

    def open_jobs(self, key: ActionTypeKey) -> list[Any]:
        return self.rt.jobs.claim(key, worker="test", limit=100)

    def complete(
        self, execution_id: str, action_name: str, *, ok: bool = True, **result: Any
    ) -> None:
        """Claim and finish the queued job of one action (as a job worker would)."""
        claimed = [
            job
            for key in (SOURCE, BUILD)
            for job in self.rt.jobs.claim(key, worker="test", limit=100)
        ]
        target = None
        for job in claimed:
            ctx = job.data["job"]["pipelineContext"]
            if (
                target is None
                and ctx["pipelineExecutionId"] == execution_id
                and ctx["action"]["name"] == action_name
            ):
                target = job
            else:
                self._release(job)
        if target is None:
            raise AssertionError(f"no queued job for {action_name} of {execution_id}")
        self.rt.jobs.acknowledge(target.id, target.nonce)
        self.rt.operations.job_finished(
            target.id, succeeded=ok, message=None if ok else "it broke", **result
        )

    def _release(self, job: Any) -> None:
        from stageline.store import jobs as job_store

        with self.services.ctx.db.write() as conn:
            job_store.set_status(
                conn,
                job.id,
                "Queued",
                self.clock.now_ms(),
                nonce=None,
                worker=None,
                lease_expires_ms=None,
                attempts=job.attempts - 1,
            )

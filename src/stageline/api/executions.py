"""CodePipeline's execution operations, added to the CodePipeline endpoint."""

from __future__ import annotations

from typing import Any

from stageline.api.protocol import ServiceEndpoint
from stageline.changes import action_revision
from stageline.clock import ms_to_datetime
from stageline.engine.status import TriggerType
from stageline.runtime import Runtime

ANONYMOUS = "stageline:anonymous"


def register(endpoint: ServiceEndpoint, runtime: Runtime) -> None:
    ops, queries = runtime.operations, runtime.queries

    def start_pipeline_execution(p: dict[str, Any]) -> dict[str, Any]:
        execution_id = ops.start(
            p["name"],
            trigger_type=TriggerType.START_PIPELINE_EXECUTION,
            trigger_detail=ANONYMOUS,
            variables=p.get("variables"),
            client_token=p.get("clientRequestToken"),
            source_revisions=p.get("sourceRevisions"),
        )
        return {"pipelineExecutionId": execution_id}

    def get_pipeline_execution(p: dict[str, Any]) -> dict[str, Any]:
        return {"pipelineExecution": queries.execution(p["pipelineName"], p["pipelineExecutionId"])}

    def list_pipeline_executions(p: dict[str, Any]) -> dict[str, Any]:
        stage = ((p.get("filter") or {}).get("succeededInStage") or {}).get("stageName")
        items, token = queries.list_executions(
            p["pipelineName"],
            max_results=p.get("maxResults"),
            next_token=p.get("nextToken"),
            succeeded_in_stage=stage,
        )
        return {"pipelineExecutionSummaries": items, **({"nextToken": token} if token else {})}

    def get_pipeline_state(p: dict[str, Any]) -> dict[str, Any]:
        return queries.pipeline_state(p["name"])

    def list_action_executions(p: dict[str, Any]) -> dict[str, Any]:
        flt = p.get("filter") or {}
        execution_id = flt.get("pipelineExecutionId") or (
            flt.get("latestInPipelineExecution") or {}
        ).get("pipelineExecutionId")
        items, token = queries.list_action_executions(
            p["pipelineName"],
            execution_id=execution_id,
            max_results=p.get("maxResults"),
            next_token=p.get("nextToken"),
        )
        return {"actionExecutionDetails": items, **({"nextToken": token} if token else {})}

    def stop_pipeline_execution(p: dict[str, Any]) -> dict[str, Any]:
        execution_id = ops.stop(
            p["pipelineName"],
            p["pipelineExecutionId"],
            abandon=bool(p.get("abandon")),
            reason=p.get("reason"),
        )
        return {"pipelineExecutionId": execution_id}

    def retry_stage_execution(p: dict[str, Any]) -> dict[str, Any]:
        execution_id = ops.retry(
            p["pipelineName"], p["stageName"], p["pipelineExecutionId"], p["retryMode"]
        )
        return {"pipelineExecutionId": execution_id}

    def put_approval_result(p: dict[str, Any]) -> dict[str, Any]:
        at = ops.put_approval(
            p["pipelineName"],
            p["stageName"],
            p["actionName"],
            p["token"],
            p["result"]["status"],
            p["result"]["summary"],
            ANONYMOUS,
        )
        return {"approvedAt": ms_to_datetime(at)}

    def disable_stage_transition(p: dict[str, Any]) -> None:
        ops.set_transition(
            p["pipelineName"],
            p["stageName"],
            p["transitionType"],
            enabled=False,
            reason=p["reason"],
            by=ANONYMOUS,
        )

    def enable_stage_transition(p: dict[str, Any]) -> None:
        ops.set_transition(
            p["pipelineName"],
            p["stageName"],
            p["transitionType"],
            enabled=True,
            reason=None,
            by=ANONYMOUS,
        )

    def put_action_revision(p: dict[str, Any]) -> dict[str, Any]:
        return action_revision.put_action_revision(
            ops, p["pipelineName"], p["stageName"], p["actionName"], p["actionRevision"]
        )

    endpoint.handlers.update(
        PutActionRevision=put_action_revision,
        StartPipelineExecution=start_pipeline_execution,
        GetPipelineExecution=get_pipeline_execution,
        ListPipelineExecutions=list_pipeline_executions,
        GetPipelineState=get_pipeline_state,
        ListActionExecutions=list_action_executions,
        StopPipelineExecution=stop_pipeline_execution,
        RetryStageExecution=retry_stage_execution,
        PutApprovalResult=put_approval_result,
        DisableStageTransition=disable_stage_transition,
        EnableStageTransition=enable_stage_transition,
    )

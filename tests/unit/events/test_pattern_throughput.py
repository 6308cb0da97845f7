"""Matching throughput, printed and never asserted (STYLE.md: timings are figures, not tests).

The bus's target is 1,000 events/s matched against 10 rules; this prints what the compiled
patterns manage on this machine so a regression is visible in the test log.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from stageline.events import compile_pattern

EVENTS = 100_000
RULES: list[dict[str, Any]] = [
    {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": ["arn:aws:codecommit:us-east-1:123456789012:my-repo"],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": ["main"],
        },
    },
    {"source": ["aws.codepipeline"], "detail": {"state": ["FAILED"]}},
    {"source": [{"prefix": "aws."}], "detail": {"pipeline": [{"suffix": "-prod"}]}},
    {"detail": {"state": [{"anything-but": ["STARTED", "RESUMED"]}]}},
    {"detail": {"version": [{"numeric": [">", 1, "<=", 50]}]}},
    {"detail": {"execution-trigger": {"trigger-type": [{"exists": True}]}}},
    {"detail": {"stage": [{"wildcard": "Deploy*"}]}},
    {"$or": [{"detail": {"state": ["SUCCEEDED"]}}, {"detail": {"state": ["CANCELED"]}}]},
    {"resources": [{"prefix": "arn:aws:codepipeline:"}], "region": ["us-east-1", "eu-west-1"]},
    {"detail": {"referenceName": [{"equals-ignore-case": "MAIN"}], "commitId": [{"exists": True}]}},
]


def sample_events() -> list[dict[str, Any]]:
    states = ["STARTED", "SUCCEEDED", "FAILED", "CANCELED", "STOPPED"]
    events = []
    for i in range(100):
        events.append(
            {
                "version": "0",
                "id": f"id-{i}",
                "detail-type": "CodePipeline Stage Execution State Change",
                "source": "aws.codepipeline" if i % 2 else "aws.codecommit",
                "account": "123456789012",
                "time": "2025-12-25T10:23:43Z",
                "region": "us-east-1",
                "resources": [f"arn:aws:codepipeline:us-east-1:123456789012:p{i % 7}-prod"],
                "detail": {
                    "pipeline": f"p{i % 7}-prod",
                    "execution-id": f"e-{i}",
                    "stage": "Deploy" if i % 3 else "Build",
                    "state": states[i % len(states)],
                    "version": i % 60,
                    "execution-trigger": {"trigger-type": "Webhook"},
                    "referenceName": "main",
                },
            }
        )
    return events


def test_matching_throughput_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    patterns = [compile_pattern(rule) for rule in RULES]
    events = sample_events()
    matched = 0
    start = time.perf_counter()
    for n in range(EVENTS):
        event = events[n % len(events)]
        for pattern in patterns:
            matched += pattern.matches(event)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(
            f"\n[events/patterns] {EVENTS:,} events x {len(patterns)} patterns in {elapsed:.2f} s: "
            f"{EVENTS / elapsed:,.0f} events/s ({EVENTS * len(patterns) / elapsed:,.0f} "
            f"pattern evaluations/s, {matched:,} matches; the bus's target is 1,000 events/s)"
        )

"""ARNs in AWS's form, for the configured region and account."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stageline.definitions.catalog import ActionTypeKey

ARN_RE = re.compile(
    r"arn:(?P<partition>aws[\w-]*):codepipeline:(?P<region>[^:]+):(?P<account>\d{12}):(?P<resource>.+)"
)


@dataclass(frozen=True, kw_only=True)
class Arns:
    region: str
    account_id: str

    @property
    def prefix(self) -> str:
        return f"arn:aws:codepipeline:{self.region}:{self.account_id}:"

    def pipeline(self, name: str) -> str:
        return self.prefix + name

    def action_type(self, key: ActionTypeKey) -> str:
        return f"{self.prefix}actiontype:{key.owner}/{key.category}/{key.provider}/{key.version}"

    def webhook(self, name: str) -> str:
        return f"{self.prefix}webhook:{name}"


@dataclass(frozen=True, kw_only=True)
class ParsedArn:
    region: str
    account_id: str
    kind: str  # pipeline | actiontype | webhook
    name: str


def parse(arn: str) -> ParsedArn | None:
    m = ARN_RE.fullmatch(arn)
    if not m:
        return None
    resource = m.group("resource")
    kind = "pipeline"
    name = resource
    for prefix in ("actiontype:", "webhook:"):
        if resource.startswith(prefix):
            kind = prefix[:-1]
            name = resource[len(prefix) :]
    return ParsedArn(region=m.group("region"), account_id=m.group("account"), kind=kind, name=name)

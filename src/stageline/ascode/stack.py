"""The stack a template is read as: region, account, stack name, pseudo parameters.

CloudFormation evaluates a template inside a stack, and several values come
from it (``AWS::Region``, ``AWS::StackName``, generated physical names). There
is no stack here, so these are chosen by the caller or derived
deterministically from the file name, so the same file always loads to the
same declaration.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from stageline.ascode.model import DefinitionError

PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)

_NAMESPACE = uuid.UUID("5b1f1c8e-2d0a-4c53-9a51-7f0c1d3e9a10")
_STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
_TEMPLATE_SUFFIXES = (".template.json", ".template.yaml", ".template.yml", ".template")


@dataclass(frozen=True, kw_only=True)
class StackContext:
    """Where a template is evaluated: the values of its pseudo parameters."""

    region: str
    account_id: str
    stack_name: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{12}", self.account_id):
            raise DefinitionError("", f"account id {self.account_id!r} is not 12 digits")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,29}", self.region):
            raise DefinitionError("", f"region {self.region!r} is not a region name like us-east-1")
        if not _STACK_NAME.fullmatch(self.stack_name):
            raise DefinitionError(
                "",
                f"stack name {self.stack_name!r} is not valid: CloudFormation stack names "
                "start with a letter and hold only letters, digits and hyphens (at most 128)",
            )

    @property
    def partition(self) -> str:
        """AWS::Partition: the China and GovCloud regions have their own."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    @property
    def stack_id(self) -> str:
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/{self.uuid_for('stack')}"
        )

    def uuid_for(self, logical_id: str) -> str:
        """A UUID that is the same every time this stack and logical id are loaded."""
        return str(uuid.uuid5(_NAMESPACE, f"{self.account_id}/{self.stack_name}/{logical_id}"))

    def hex_for(self, logical_id: str, length: int) -> str:
        digest = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()
        return digest[:length]

    def generated_name(self, logical_id: str, max_length: int = 100) -> str:
        """The physical name CloudFormation would give an unnamed resource.

        CloudFormation uses ``<stack>-<logical id>-<random suffix>`` and
        shortens the first two parts to fit the resource's limit; the suffix
        here is derived from the stack and logical id instead of random.
        """
        digest = hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).digest()
        suffix = base64.b32encode(digest).decode()[:13]
        room = max_length - len(suffix) - 2
        stack_part = self.stack_name[: max(room // 2, room - len(logical_id))]
        logical_part = logical_id[: room - len(stack_part)]
        return f"{stack_part}-{logical_part}-{suffix}"

    def pseudo(self, name: str) -> str | list[str]:
        """The value of a pseudo parameter other than AWS::NoValue."""
        values: dict[str, str | list[str]] = {
            "AWS::AccountId": self.account_id,
            "AWS::NotificationARNs": [],
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::StackId": self.stack_id,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": self.url_suffix,
        }
        return values[name]


def stack_name_from_filename(filename: str) -> str:
    """A valid stack name from a file name: ``cdk.out/App.template.json`` → ``App``."""
    name = PurePath(filename).name
    lowered = name.lower()
    for suffix in _TEMPLATE_SUFFIXES:
        if lowered.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name = PurePath(name).stem if "." in name else name
    name = re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")
    name = re.sub(r"^[^A-Za-z]+", "", name)
    return name[:128] or "stack"

"""SSM Parameter Store's rules over the store: types, versions, Overwrite, AllowedPattern.

Every value is encrypted at rest, String ones too; only the API edge tells the
types apart (a SecureString value is never returned over the API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from stageline.errors import ApiError, ValidationError
from stageline.secrets import storage
from stageline.secrets.errors import (
    ParameterAlreadyExists,
    ParameterVersionNotFound,
    parameter_not_found,
)
from stageline.secrets.keys import KeyRing
from stageline.secrets.model import Parameter, ParameterType
from stageline.secrets.names import check_parameter_name, parameter_arn, parse_parameter_reference
from stageline.services.context import ServiceContext

STANDARD = "Standard"
ADVANCED = "Advanced"
INTELLIGENT_TIERING = "Intelligent-Tiering"
MAX_VALUE = {STANDARD: 4096, ADVANCED: 8192}
MAX_VERSIONS = 100
DEFAULT_KEY_ID = "alias/aws/ssm"
DATA_TYPE = "text"


class ParameterPatternMismatch(ApiError):
    code = "ParameterPatternMismatchException"


class InvalidAllowedPattern(ApiError):
    code = "InvalidAllowedPatternException"


class TooManyUpdates(ApiError):
    code = "TooManyUpdates"


class ParameterStore:
    """Parameters as SSM keeps them: each put that changes one adds a version (the newest 100 kept)."""

    def __init__(self, ctx: ServiceContext, keys: KeyRing) -> None:
        self.ctx = ctx
        self.keys = keys

    def arn(self, name: str) -> str:
        return parameter_arn(self.ctx.region, self.ctx.account_id, name)

    def _view(self, row: storage.ParameterRow) -> Parameter:
        return Parameter(
            name=row.name,
            arn=self.arn(row.name),
            type=row.type,
            version=row.version,
            description=row.description,
            key_id=row.key_id,
            allowed_pattern=row.allowed_pattern,
            tier=row.tier,
            data_type=row.data_type,
            modified_ms=row.modified_ms,
        )

    def put(
        self,
        name: str,
        value: str,
        *,
        type: ParameterType | None = None,
        description: str | None = None,
        overwrite: bool = False,
        key_id: str | None = None,
        allowed_pattern: str | None = None,
        tier: str | None = None,
        data_type: str | None = None,
        with_tags: bool = False,
    ) -> Parameter:
        """PutParameter: create ``name``, or with ``overwrite`` add a version to it."""
        check_parameter_name(name)
        if with_tags and overwrite:
            raise ValidationError(
                "tags and Overwrite can't be used together: tag a parameter when you create it"
            )
        if not value:
            raise ValidationError(f"parameter '{name}' needs a value of at least one character")
        if data_type not in (None, DATA_TYPE):
            raise ValidationError(
                f"DataType '{data_type}' is not supported: stageline stores DataType 'text' only"
            )
        ciphertext = self.keys.encrypt(value)
        try:
            with self.ctx.db.write() as conn:
                existing = storage.get_parameter(conn, name, for_update=True)
                if existing is not None and not overwrite:
                    raise ParameterAlreadyExists(
                        f"parameter '{name}' already exists (version {existing.version}); "
                        "set Overwrite to add a new version"
                    )
                if existing is None and type is None:
                    raise ValidationError(
                        f"parameter '{name}' is new, so it needs a Type: String, StringList or "
                        "SecureString"
                    )
                new_type = type or (existing.type if existing else ParameterType.STRING)
                pattern = (
                    allowed_pattern
                    if allowed_pattern is not None
                    else (existing.allowed_pattern if existing else None)
                )
                _check_pattern(name, value, pattern)
                row = storage.ParameterRow(
                    name=name,
                    type=new_type,
                    version=(existing.version if existing else 0) + 1,
                    description=description
                    if description is not None
                    else (existing.description if existing else None),
                    key_id=(key_id or (existing.key_id if existing else None) or DEFAULT_KEY_ID)
                    if new_type is ParameterType.SECURE_STRING
                    else None,
                    allowed_pattern=pattern or None,
                    tier=_tier(name, value, tier, existing.tier if existing else None),
                    data_type=DATA_TYPE,
                    modified_ms=self.ctx.clock.now_ms(),
                )
                storage.save_parameter(conn, row, new=existing is None)
                storage.add_parameter_version(conn, row, ciphertext, keep=MAX_VERSIONS)
        except IntegrityError:
            raise TooManyUpdates(
                f"parameter '{name}' was changed by another request at the same time; try again"
            ) from None
        return self._view(row)

    def _locate(self, reference: str) -> tuple[storage.ParameterRow, int, str | None]:
        """The parameter a name, ``name:version`` or ARN names, the version and the selector."""
        ref = parse_parameter_reference(reference)
        shown = ref.names[0]
        if ref.region is not None and (
            ref.region != self.ctx.region or ref.account_id != self.ctx.account_id
        ):
            raise parameter_not_found(shown)
        with self.ctx.db.read() as conn:
            row = next(
                (r for r in (storage.get_parameter(conn, n) for n in ref.names) if r is not None),
                None,
            )
        if row is None:
            raise parameter_not_found(shown)
        if ref.selector is None:
            return row, row.version, None
        if not ref.selector.isdigit():
            raise ParameterVersionNotFound(
                f"'{reference}' selects the label '{ref.selector}'; stageline keeps no parameter "
                f"labels, select a version number instead ({row.name}:{row.version})"
            )
        return row, int(ref.selector), f":{ref.selector}"

    def get(self, reference: str) -> Parameter:
        """The parameter's metadata at the version ``reference`` selects (no value)."""
        return self.read(reference, with_value=False)[0]

    def read(self, reference: str, *, with_value: bool = True) -> tuple[Parameter, str | None]:
        """The parameter and, with ``with_value``, its decrypted value at the selected version."""
        row, version, selector = self._locate(reference)
        with self.ctx.db.read() as conn:
            stored = storage.parameter_version(conn, row.name, version)
        if stored is None:
            raise ParameterVersionNotFound(
                f"parameter '{row.name}' has no version {version}; its current version is "
                f"{row.version} (stageline keeps the newest {MAX_VERSIONS})"
            )
        view = replace(
            self._view(row),
            type=stored.type,
            version=stored.version,
            modified_ms=stored.modified_ms,
            selector=selector,
        )
        if not with_value:
            return view, None
        return view, self.keys.decrypt(stored.ciphertext, what=f"parameter '{row.name}'")

    def delete(self, name: str) -> None:
        with self.ctx.db.write() as conn:
            if not storage.delete_parameter(conn, name):
                raise parameter_not_found(name)

    def list(self) -> list[Parameter]:
        with self.ctx.db.read() as conn:
            return [self._view(r) for r in storage.list_parameters(conn)]


def _check_pattern(name: str, value: str, pattern: str | None) -> None:
    if not pattern:
        return
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise InvalidAllowedPattern(
            f"AllowedPattern of parameter '{name}' is not a valid regular expression: {exc}"
        ) from None
    if not compiled.fullmatch(value):
        # The value itself is never repeated back.
        raise ParameterPatternMismatch(
            f"the value given for parameter '{name}' does not match its AllowedPattern {pattern}"
        )


def _tier(name: str, value: str, asked: str | None, existing: str | None) -> str:
    size = len(value.encode("utf-8"))
    tier = asked or existing or STANDARD
    if tier == INTELLIGENT_TIERING:
        tier = STANDARD if size <= MAX_VALUE[STANDARD] else ADVANCED
    if existing == ADVANCED:
        tier = ADVANCED  # AWS never moves a parameter back from the advanced tier
    if size > MAX_VALUE[tier]:
        hint = "; use Tier Advanced for up to 8192 bytes" if tier == STANDARD else ""
        raise ValidationError(
            f"the value of parameter '{name}' is {size} bytes; the {tier} tier holds at most "
            f"{MAX_VALUE[tier]}{hint}"
        )
    return tier


class InvalidFilterKey(ApiError):
    code = "InvalidFilterKey"


class InvalidFilterOption(ApiError):
    code = "InvalidFilterOption"


_FILTER_OPTIONS = {
    "Name": ("Equals", ("Equals", "BeginsWith", "Contains")),
    "Path": ("OneLevel", ("OneLevel", "Recursive")),
    "Type": ("Equals", ("Equals",)),
    "KeyId": ("Equals", ("Equals",)),
    "Tier": ("Equals", ("Equals",)),
    "DataType": ("Equals", ("Equals",)),
}


@dataclass(frozen=True, kw_only=True)
class ParameterFilter:
    """One DescribeParameters ParameterFilter; the values are alternatives."""

    key: str
    option: str
    values: tuple[str, ...]

    @classmethod
    def of(cls, key: str, option: str | None, values: list[str]) -> ParameterFilter:
        if key == "Label" or key.startswith("tag:"):
            raise InvalidFilterKey(
                f"filter key '{key}' is not supported: stageline keeps no parameter labels or tags"
            )
        if key not in _FILTER_OPTIONS:
            raise InvalidFilterKey(
                f"filter key '{key}' is not one of: {', '.join(_FILTER_OPTIONS)}"
            )
        default, allowed = _FILTER_OPTIONS[key]
        option = option or default
        if option not in allowed:
            raise InvalidFilterOption(
                f"filter option '{option}' does not apply to key '{key}'; use one of: "
                f"{', '.join(allowed)}"
            )
        return cls(key=key, option=option, values=tuple(values))

    def matches(self, parameter: Parameter) -> bool:
        if self.key == "Path":
            return any(
                _under(parameter.name, path, self.option == "Recursive") for path in self.values
            )
        field = {
            "Name": parameter.name,
            "Type": parameter.type.value,
            "KeyId": parameter.key_id or "",
            "Tier": parameter.tier,
            "DataType": parameter.data_type,
        }[self.key]
        if self.option == "BeginsWith":
            return any(field.startswith(v) for v in self.values)
        if self.option == "Contains":
            return any(v in field for v in self.values)
        return field in self.values


def _under(name: str, path: str, recursive: bool) -> bool:
    """Whether ``name`` is in the hierarchy ``path`` (one level down, or any depth)."""
    prefix = path.rstrip("/") + "/"
    full = name if name.startswith("/") else f"/{name}"
    if not full.startswith(prefix):
        return False
    return recursive or "/" not in full[len(prefix) :]

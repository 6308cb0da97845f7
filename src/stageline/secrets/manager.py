"""Secrets Manager's rules over the store: versions, staging labels, scheduled deletion.

A new value is a new version; it takes ``AWSCURRENT`` (unless other labels are
asked for) and the version that had ``AWSCURRENT`` becomes ``AWSPREVIOUS``.
DeleteSecret schedules the secret for deletion after a recovery window of 7 to
30 days (30 by default) during which it cannot be read or changed but can be
restored, or with ForceDeleteWithoutRecovery deletes it at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from stageline.clock import ms_to_datetime
from stageline.secrets import storage
from stageline.secrets.errors import (
    InvalidParameter,
    InvalidRequest,
    ResourceExists,
    ResourceNotFound,
    scheduled_for_deletion,
    secret_not_found,
)
from stageline.secrets.keys import KeyRing
from stageline.secrets.model import AWSCURRENT, AWSPREVIOUS, Secret, SecretVersion
from stageline.secrets.names import check_secret_name, secret_arn, secret_name_in_arn
from stageline.services.context import ServiceContext

MIN_RECOVERY_DAYS = 7
MAX_RECOVERY_DAYS = 30
DEFAULT_RECOVERY_DAYS = 30
MAX_VERSIONS = 100
DAY_MS = 86_400_000
SORT_KEYS = ("created-date", "last-accessed-date", "last-changed-date", "name")


@dataclass(frozen=True, kw_only=True)
class Deletion:
    """What DeleteSecret reports: the secret and when it is (or was) deleted for good."""

    name: str | None
    arn: str | None
    deletion_ms: int


@dataclass(frozen=True, kw_only=True)
class SecretFilter:
    """One ListSecrets filter: ``key`` is one of AWS's filter keys; values match as prefixes."""

    key: str
    values: tuple[str, ...]


class SecretsManager:
    """Secrets as Secrets Manager keeps them; values go in encrypted and come out only via ``read``."""

    def __init__(self, ctx: ServiceContext, keys: KeyRing) -> None:
        self.ctx = ctx
        self.keys = keys

    # -- lookups -----------------------------------------------------------------------------

    def _find(
        self, conn: Connection, secret_id: str, *, for_update: bool = False
    ) -> storage.SecretRow | None:
        """By name, full ARN or partial ARN (the ARN without its random suffix)."""
        name_in_arn = secret_name_in_arn(secret_id)
        if name_in_arn is None:
            row = storage.find_secret(conn, name=secret_id, for_update=for_update)
        else:
            row = storage.find_secret(conn, arn=secret_id, for_update=for_update)
            if row is None:
                row = storage.find_secret(conn, name=name_in_arn, for_update=for_update)
                if row is not None and row.arn[: -len("-XXXXXX")] != secret_id:
                    row = None
        if row is not None and row.purge_ms is not None and row.purge_ms <= self.ctx.clock.now_ms():
            return None  # its recovery window is over: gone, though not yet purged
        return row

    def _require(
        self, conn: Connection, secret_id: str, *, for_update: bool = False, usable: bool = False
    ) -> storage.SecretRow:
        row = self._find(conn, secret_id, for_update=for_update)
        if row is None:
            raise secret_not_found(secret_id)
        if usable and row.deleted_ms is not None:
            raise scheduled_for_deletion(row.name)
        return row

    def _view(self, conn: Connection, row: storage.SecretRow) -> Secret:
        versions = storage.secret_versions_of(conn, [row.arn])[row.arn]
        return _secret(row, versions)

    # -- writes ------------------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        value: str | None = None,
        description: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        version_id: str | None = None,
    ) -> tuple[Secret, str | None]:
        """CreateSecret; with a value its first version (``AWSCURRENT``). Returns the version id."""
        check_secret_name(name)
        ciphertext = None if value is None else self.keys.encrypt(value)
        now = self.ctx.clock.now_ms()
        try:
            with self.ctx.db.write() as conn:
                storage.purge_expired(conn, now)
                existing = storage.find_secret(conn, name=name)
                if existing is not None:
                    if existing.deleted_ms is not None:
                        raise InvalidRequest(
                            f"a secret named '{name}' is scheduled for deletion, so the name is "
                            f"still taken; restore it with `stageline secret restore {name}` or "
                            f"delete it for good with `stageline secret delete {name} --force`"
                        )
                    raise _exists(name)
                row = storage.SecretRow(
                    arn=secret_arn(self.ctx.region, self.ctx.account_id, name),
                    name=name,
                    description=description,
                    tags=tuple(tags),
                    created_ms=now,
                    changed_ms=now,
                    deleted_ms=None,
                    purge_ms=None,
                )
                storage.insert_secret(conn, row)
                new_version = None
                if ciphertext is not None:
                    assert value is not None
                    new_version = self._add_version(
                        conn, row, value, ciphertext, version_id, None, now
                    )
                return self._view(conn, row), new_version
        except IntegrityError:
            raise _exists(name) from None

    def put_value(
        self,
        secret_id: str,
        value: str,
        *,
        version_id: str | None = None,
        stages: Sequence[str] | None = None,
    ) -> tuple[Secret, SecretVersion]:
        """PutSecretValue: a new version with ``stages`` (default ``AWSCURRENT``)."""
        ciphertext = self.keys.encrypt(value)
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            row = self._require(conn, secret_id, for_update=True, usable=True)
            added = self._add_version(conn, row, value, ciphertext, version_id, stages, now)
            view = self._view(conn, row)
        version = view.version(added)
        assert version is not None
        return view, version

    def update(
        self,
        secret_id: str,
        *,
        description: str | None = None,
        value: str | None = None,
        version_id: str | None = None,
    ) -> tuple[Secret, str | None]:
        """UpdateSecret: a new description and/or a new ``AWSCURRENT`` value."""
        ciphertext = None if value is None else self.keys.encrypt(value)
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            row = self._require(conn, secret_id, for_update=True, usable=True)
            if description is not None:
                storage.update_secret(conn, row.arn, description=description, changed_ms=now)
            new_version = None
            if ciphertext is not None:
                assert value is not None
                new_version = self._add_version(conn, row, value, ciphertext, version_id, None, now)
            return self._view(conn, storage.find_secret(conn, arn=row.arn) or row), new_version

    def _add_version(
        self,
        conn: Connection,
        row: storage.SecretRow,
        value: str,
        ciphertext: str,
        version_id: str | None,
        stages: Sequence[str] | None,
        now: int,
    ) -> str:
        """Store a version and move the staging labels onto it, as Secrets Manager does."""
        version_id = version_id or str(uuid.uuid4())
        earlier = storage.version_ciphertext(conn, row.arn, version_id)
        if earlier is not None:
            # A retried request (same ClientRequestToken) with the same value changes nothing.
            if self.keys.decrypt(earlier, what=f"secret '{row.name}'") == value:
                return version_id
            raise ResourceExists(
                f"secret '{row.name}' already has a version '{version_id}' with a different value; "
                "a version can't be changed: put a new one with another ClientRequestToken"
            )
        first = not storage.secret_versions_of(conn, [row.arn])[row.arn]
        labels = list(dict.fromkeys(stages)) if stages is not None else [AWSCURRENT]
        if first and AWSCURRENT not in labels:
            labels.append(AWSCURRENT)
        owners = storage.stage_owners(conn, row.arn)
        storage.add_secret_version(conn, row.arn, version_id, ciphertext, now)
        for label in labels:
            storage.move_stage(conn, row.arn, label, version_id)
            previous = owners.get(label)
            if label == AWSCURRENT and previous is not None and AWSPREVIOUS not in labels:
                storage.move_stage(conn, row.arn, AWSPREVIOUS, previous)
        storage.prune_secret_versions(conn, row.arn, keep=MAX_VERSIONS)
        storage.update_secret(conn, row.arn, changed_ms=now)
        return version_id

    def delete(
        self, secret_id: str, *, recovery_days: int | None = None, force: bool = False
    ) -> Deletion:
        """DeleteSecret: schedule the deletion after the recovery window, or delete at once."""
        if force and recovery_days is not None:
            raise InvalidParameter(
                "you can't use ForceDeleteWithoutRecovery together with RecoveryWindowInDays; "
                "pass one of them"
            )
        if recovery_days is not None and not (
            MIN_RECOVERY_DAYS <= recovery_days <= MAX_RECOVERY_DAYS
        ):
            raise InvalidParameter(
                f"RecoveryWindowInDays is {recovery_days}; it must be from {MIN_RECOVERY_DAYS} "
                f"to {MAX_RECOVERY_DAYS} days"
            )
        now = self.ctx.clock.now_ms()
        with self.ctx.db.write() as conn:
            storage.purge_expired(conn, now)
            row = self._find(conn, secret_id, for_update=True)
            if row is None:
                if not force:
                    raise secret_not_found(secret_id)
                # AWS: forcing the deletion of a secret that is not there is not an error.
                in_arn = secret_name_in_arn(secret_id)
                return Deletion(
                    name=secret_id if in_arn is None else None,
                    arn=secret_id if in_arn is not None else None,
                    deletion_ms=now,
                )
            if force:
                storage.delete_secret(conn, row.arn)
                return Deletion(name=row.name, arn=row.arn, deletion_ms=now)
            if row.purge_ms is not None:
                when = ms_to_datetime(row.purge_ms).strftime("%Y-%m-%d %H:%M UTC")
                raise InvalidRequest(
                    f"secret '{row.name}' is already scheduled for deletion on {when}; restore it "
                    "with RestoreSecret, or delete it now with ForceDeleteWithoutRecovery"
                )
            purge = now + (recovery_days or DEFAULT_RECOVERY_DAYS) * DAY_MS
            storage.update_secret(conn, row.arn, deleted_ms=now, purge_ms=purge)
            return Deletion(name=row.name, arn=row.arn, deletion_ms=purge)

    def restore(self, secret_id: str) -> Secret:
        """RestoreSecret: cancel a scheduled deletion (a no-op on a secret that has none)."""
        with self.ctx.db.write() as conn:
            row = self._require(conn, secret_id, for_update=True)
            storage.update_secret(conn, row.arn, deleted_ms=None, purge_ms=None)
            return self._view(conn, storage.find_secret(conn, arn=row.arn) or row)

    # -- reads -------------------------------------------------------------------------------

    def describe(self, secret_id: str) -> Secret:
        with self.ctx.db.read() as conn:
            return self._view(conn, self._require(conn, secret_id))

    def list(
        self,
        *,
        include_planned_deletion: bool = False,
        filters: Sequence[SecretFilter] = (),
        sort_by: str = "created-date",
        descending: bool = False,
    ) -> list[Secret]:
        """ListSecrets: metadata of every matching secret, sorted."""
        now = self.ctx.clock.now_ms()
        with self.ctx.db.read() as conn:
            rows = [
                r
                for r in storage.list_secrets(conn)
                if (r.purge_ms is None or r.purge_ms > now)
                and (include_planned_deletion or r.deleted_ms is None)
            ]
            versions = storage.secret_versions_of(conn, [r.arn for r in rows])
        found = [_secret(r, versions[r.arn]) for r in rows]
        found = [s for s in found if all(_matches(s, f) for f in filters)]
        keys = {
            "name": lambda s: (s.name, s.created_ms),
            "last-changed-date": lambda s: (s.changed_ms, s.name),
        }
        found.sort(key=keys.get(sort_by, lambda s: (s.created_ms, s.name)), reverse=descending)
        return found

    def read(
        self, secret_id: str, *, version_id: str | None = None, stage: str | None = None
    ) -> tuple[Secret, SecretVersion, str]:
        """The secret, the version asked for (``AWSCURRENT`` by default) and its value."""
        with self.ctx.db.read() as conn:
            row = self._require(conn, secret_id, usable=True)
            secret = self._view(conn, row)
            version = _pick_version(secret, version_id, stage)
            ciphertext = storage.version_ciphertext(conn, row.arn, version.version_id)
        if ciphertext is None:  # pruned between the two reads
            raise ResourceNotFound(f"secret '{secret.name}' has no version '{version.version_id}'")
        value = self.keys.decrypt(ciphertext, what=f"secret '{secret.name}'")
        return secret, version, value


def _exists(name: str) -> ResourceExists:
    return ResourceExists(
        f"secret '{name}' already exists; put a new value with `stageline secret put {name}` "
        "(PutSecretValue)"
    )


def _secret(row: storage.SecretRow, versions: list[SecretVersion]) -> Secret:
    return Secret(
        name=row.name,
        arn=row.arn,
        description=row.description,
        tags=row.tags,
        created_ms=row.created_ms,
        changed_ms=row.changed_ms,
        deleted_ms=row.deleted_ms,
        purge_ms=row.purge_ms,
        versions=tuple(versions),
    )


def _pick_version(secret: Secret, version_id: str | None, stage: str | None) -> SecretVersion:
    if not secret.versions:
        raise ResourceNotFound(
            f"secret '{secret.name}' has no value yet; put one with "
            f"`stageline secret put {secret.name}`"
        )
    if version_id is not None:
        version = secret.version(version_id)
        if version is None:
            raise ResourceNotFound(f"secret '{secret.name}' has no version '{version_id}'")
        if stage is not None and stage not in version.stages:
            raise InvalidRequest(
                f"version '{version_id}' of secret '{secret.name}' does not have the staging "
                f"label '{stage}'; pass only one of the two"
            )
        return version
    label = stage or AWSCURRENT
    found = secret.version_with_stage(label)
    if found is None:
        labels = sorted({s for v in secret.versions for s in v.stages})
        raise ResourceNotFound(
            f"secret '{secret.name}' has no version with the staging label '{label}'; "
            f"its labels are: {', '.join(labels) or 'none'}"
        )
    return found


def _matches(secret: Secret, flt: SecretFilter) -> bool:
    """AWS's ListSecrets filters: prefix matches, '!' negates; description and all ignore case."""
    tag_keys = [k for k, _ in secret.tags]
    tag_values = [v for _, v in secret.tags]
    description = secret.description or ""
    fields: dict[str, tuple[list[str], bool]] = {
        "name": ([secret.name], True),
        "description": ([description], False),
        "tag-key": (tag_keys, True),
        "tag-value": (tag_values, True),
        # No replication and no owning services here: nothing carries these.
        "primary-region": ([], True),
        "owning-service": ([], True),
        "all": ([secret.name, *description.split(), *tag_keys, *tag_values], False),
    }
    candidates, case_sensitive = fields[flt.key]

    def norm(text: str) -> str:
        return text if case_sensitive else text.lower()

    def hit(value: str) -> bool:
        words = value.split() if flt.key == "all" else [value]
        return all(any(norm(c).startswith(norm(w)) for c in candidates) for w in words)

    positives = [v for v in flt.values if not v.startswith("!")]
    negatives = [v[1:] for v in flt.values if v.startswith("!")]
    if positives and not any(hit(v) for v in positives):
        return False
    return not any(hit(v) for v in negatives)

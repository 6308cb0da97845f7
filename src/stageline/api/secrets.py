"""Secrets Manager and SSM Parameter Store operations: wire params in, wire responses out.

Shaped by botocore's ``secretsmanager`` and ``ssm`` models, so
``boto3.client("secretsmanager")``, ``boto3.client("ssm")`` and the ``aws``
CLI store, describe, list and delete secrets unchanged. No response carries a
secret value: GetSecretValue and BatchGetSecretValue are refused, and a
SecureString parameter reads back as ``****`` (or, asked WithDecryption, is
refused); String and StringList parameters, which AWS treats as plain
configuration, read back as stored. Builds read values directly from the store.
"""

from __future__ import annotations

from typing import Any

from stageline.api.protocol import ServiceEndpoint
from stageline.clock import ms_to_datetime
from stageline.errors import ValidationError, error
from stageline.secrets import SecretStore
from stageline.secrets.errors import (
    InvalidParameter,
    ParameterNotFound,
    ParameterVersionNotFound,
    ValueRefused,
)
from stageline.secrets.manager import SORT_KEYS, SecretFilter, SecretsManager
from stageline.secrets.model import Parameter, ParameterType, Secret
from stageline.secrets.parameters import ParameterFilter, ParameterStore
from stageline.services import paging

SECRETSMANAGER_PREFIX = "secretsmanager"
SSM_PREFIX = "AmazonSSM"
MASKED = "****"
LIST_SECRETS_PAGE = 100
DESCRIBE_PARAMETERS_PAGE = 10
NOT_RETURNED = (
    "stageline never returns secret values over the API: builds read them directly from the "
    "store (buildspec env.secrets-manager and env.parameter-store). "
)


def build_endpoints(store: SecretStore) -> list[ServiceEndpoint]:
    return [secrets_manager_endpoint(store.secrets), ssm_endpoint(store.parameters)]


def _string_value(p: dict[str, Any]) -> str | None:
    """SecretString; SecretBinary is refused (builds take text)."""
    if p.get("SecretBinary") is not None:
        if p.get("SecretString") is not None:
            raise InvalidParameter("pass SecretString or SecretBinary, not both")
        raise InvalidParameter(
            "stageline stores SecretString values only, which is what builds read; "
            "base64-encode binary data into a SecretString"
        )
    value = p.get("SecretString")
    return None if value is None else str(value)


# -- Secrets Manager -------------------------------------------------------------------------


def _secret_fields(secret: Secret, stages_member: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ARN": secret.arn,
        "Name": secret.name,
        "Description": secret.description,
        "CreatedDate": ms_to_datetime(secret.created_ms),
        "LastChangedDate": ms_to_datetime(secret.changed_ms),
    }
    if secret.deleted_ms is not None:
        out["DeletedDate"] = ms_to_datetime(secret.deleted_ms)
    if secret.tags:
        out["Tags"] = [{"Key": k, "Value": v} for k, v in secret.tags]
    if secret.versions_to_stages:
        out[stages_member] = secret.versions_to_stages
    return out


def secrets_manager_endpoint(manager: SecretsManager) -> ServiceEndpoint:
    endpoint = ServiceEndpoint(service_name="secretsmanager", target_prefix=SECRETSMANAGER_PREFIX)

    def create_secret(p: dict[str, Any]) -> dict[str, Any]:
        if p.get("AddReplicaRegions") or p.get("CrossAccountPrimaryARN"):
            raise InvalidParameter(
                "stageline does not replicate secrets to other regions or accounts"
            )
        secret, version_id = manager.create(
            p["Name"],
            value=_string_value(p),
            description=p.get("Description"),
            tags=[(t["Key"], t["Value"]) for t in p.get("Tags") or []],
            version_id=p.get("ClientRequestToken"),
        )
        return {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id}

    def put_secret_value(p: dict[str, Any]) -> dict[str, Any]:
        value = _string_value(p)
        if value is None:
            raise InvalidParameter("PutSecretValue needs a SecretString")
        secret, version = manager.put_value(
            p["SecretId"],
            value,
            version_id=p.get("ClientRequestToken"),
            stages=p.get("VersionStages"),
        )
        return {
            "ARN": secret.arn,
            "Name": secret.name,
            "VersionId": version.version_id,
            "VersionStages": list(version.stages),
        }

    def update_secret(p: dict[str, Any]) -> dict[str, Any]:
        secret, version_id = manager.update(
            p["SecretId"],
            description=p.get("Description"),
            value=_string_value(p),
            version_id=p.get("ClientRequestToken"),
        )
        return {"ARN": secret.arn, "Name": secret.name, "VersionId": version_id}

    def describe_secret(p: dict[str, Any]) -> dict[str, Any]:
        return _secret_fields(manager.describe(p["SecretId"]), "VersionIdsToStages")

    def list_secrets(p: dict[str, Any]) -> dict[str, Any]:
        filters = [
            SecretFilter(key=f["Key"], values=tuple(f.get("Values") or ()))
            for f in p.get("Filters") or []
            if f.get("Key")
        ]
        sort_by = p.get("SortBy") or "created-date"
        if sort_by not in SORT_KEYS:
            raise InvalidParameter(f"SortBy '{sort_by}' is not one of: {', '.join(SORT_KEYS)}")
        found = manager.list(
            include_planned_deletion=bool(p.get("IncludePlannedDeletion")),
            filters=filters,
            sort_by=sort_by,
            descending=p.get("SortOrder") == "desc",
        )
        page, token = paging.offset_page(
            "secrets", found, p.get("NextToken"), p.get("MaxResults") or LIST_SECRETS_PAGE
        )
        return {
            "SecretList": [_secret_fields(s, "SecretVersionsToStages") for s in page],
            "NextToken": token,
        }

    def list_secret_version_ids(p: dict[str, Any]) -> dict[str, Any]:
        secret = manager.describe(p["SecretId"])
        versions = [v for v in secret.versions if v.stages or p.get("IncludeDeprecated")]
        page, token = paging.offset_page(
            "secret-versions", versions, p.get("NextToken"), p.get("MaxResults") or 100
        )
        return {
            "ARN": secret.arn,
            "Name": secret.name,
            "Versions": [
                {
                    "VersionId": v.version_id,
                    "VersionStages": list(v.stages),
                    "CreatedDate": ms_to_datetime(v.created_ms),
                }
                for v in page
            ],
            "NextToken": token,
        }

    def delete_secret(p: dict[str, Any]) -> dict[str, Any]:
        deletion = manager.delete(
            p["SecretId"],
            recovery_days=p.get("RecoveryWindowInDays"),
            force=bool(p.get("ForceDeleteWithoutRecovery")),
        )
        return {
            "ARN": deletion.arn,
            "Name": deletion.name,
            "DeletionDate": ms_to_datetime(deletion.deletion_ms),
        }

    def restore_secret(p: dict[str, Any]) -> dict[str, Any]:
        secret = manager.restore(p["SecretId"])
        return {"ARN": secret.arn, "Name": secret.name}

    def refuse_value(_p: dict[str, Any]) -> dict[str, Any]:
        raise ValueRefused(
            NOT_RETURNED + "DescribeSecret and ListSecretVersionIds show a secret's metadata."
        )

    endpoint.handlers.update(
        CreateSecret=create_secret,
        PutSecretValue=put_secret_value,
        UpdateSecret=update_secret,
        DescribeSecret=describe_secret,
        ListSecrets=list_secrets,
        ListSecretVersionIds=list_secret_version_ids,
        DeleteSecret=delete_secret,
        RestoreSecret=restore_secret,
        GetSecretValue=refuse_value,
        BatchGetSecretValue=refuse_value,
    )
    return endpoint


# -- SSM Parameter Store ---------------------------------------------------------------------


def _metadata(parameter: Parameter) -> dict[str, Any]:
    return {
        "Name": parameter.name,
        "ARN": parameter.arn,
        "Type": parameter.type.value,
        "KeyId": parameter.key_id,
        "LastModifiedDate": ms_to_datetime(parameter.modified_ms),
        "Description": parameter.description,
        "AllowedPattern": parameter.allowed_pattern,
        "Version": parameter.version,
        "Tier": parameter.tier,
        "Policies": [],
        "DataType": parameter.data_type,
    }


def _refuse_decryption(names: list[str]) -> ValueRefused:
    return ValueRefused(
        NOT_RETURNED + f"SecureString parameters ({', '.join(names)}) are not decrypted for API "
        "callers; without WithDecryption they read back as '****'."
    )


def ssm_endpoint(parameters: ParameterStore) -> ServiceEndpoint:
    endpoint = ServiceEndpoint(service_name="ssm", target_prefix=SSM_PREFIX)

    def shaped(reference: str, with_decryption: bool) -> dict[str, Any]:
        parameter = parameters.get(reference)
        if parameter.secure:
            if with_decryption:
                raise _refuse_decryption([parameter.name])
            value = MASKED
        else:
            # String and StringList values are configuration, returned as AWS returns them.
            value = parameters.read(reference)[1] or ""
        return {
            "Name": parameter.name,
            "Type": parameter.type.value,
            "Value": value,
            "Version": parameter.version,
            "Selector": parameter.selector,
            "LastModifiedDate": ms_to_datetime(parameter.modified_ms),
            "ARN": parameter.arn,
            "DataType": parameter.data_type,
        }

    def put_parameter(p: dict[str, Any]) -> dict[str, Any]:
        if p.get("Policies"):
            raise error(
                "InvalidPolicyTypeException",
                "stageline does not support parameter policies (Expiration, "
                "ExpirationNotification, NoChangeNotification); omit Policies",
            )
        kind = p.get("Type")
        parameter = parameters.put(
            p["Name"],
            p["Value"],
            type=ParameterType(kind) if kind else None,
            description=p.get("Description"),
            overwrite=bool(p.get("Overwrite")),
            key_id=p.get("KeyId"),
            allowed_pattern=p.get("AllowedPattern"),
            tier=p.get("Tier"),
            data_type=p.get("DataType"),
            with_tags=bool(p.get("Tags")),
        )
        return {"Version": parameter.version, "Tier": parameter.tier}

    def get_parameter(p: dict[str, Any]) -> dict[str, Any]:
        return {"Parameter": shaped(p["Name"].strip(), bool(p.get("WithDecryption")))}

    def get_parameters(p: dict[str, Any]) -> dict[str, Any]:
        decrypt = bool(p.get("WithDecryption"))
        found, invalid = [], []
        for name in p["Names"]:
            try:
                parameter = parameters.get(name.strip())
            except (ParameterNotFound, ParameterVersionNotFound):
                invalid.append(name)
                continue
            found.append((name.strip(), parameter))
        secure = [parameter.name for _, parameter in found if parameter.secure]
        if decrypt and secure:
            raise _refuse_decryption(secure)
        return {
            "Parameters": [shaped(name, decrypt) for name, _ in found],
            "InvalidParameters": invalid,
        }

    def get_parameters_by_path(p: dict[str, Any]) -> dict[str, Any]:
        decrypt = bool(p.get("WithDecryption"))
        if not p["Path"].startswith("/"):
            raise ValidationError(f"path '{p['Path']}' must start with '/' (e.g. /app/db)")
        under = ParameterFilter.of(
            "Path", "Recursive" if p.get("Recursive") else "OneLevel", [p["Path"]]
        )
        found = _filtered(parameters, [under], p)
        secure = [x.name for x in found if x.secure]
        if decrypt and secure:
            raise _refuse_decryption(secure)
        page, token = _ssm_page("parameters-by-path", found, p, p.get("MaxResults") or 10)
        return {"Parameters": [shaped(x.name, decrypt) for x in page], "NextToken": token}

    def delete_parameter(p: dict[str, Any]) -> dict[str, Any]:
        parameters.delete(p["Name"])
        return {}

    def delete_parameters(p: dict[str, Any]) -> dict[str, Any]:
        deleted, invalid = [], []
        for name in p["Names"]:
            try:
                parameters.delete(name)
            except ParameterNotFound:
                invalid.append(name)
            else:
                deleted.append(name)
        return {"DeletedParameters": deleted, "InvalidParameters": invalid}

    def describe_parameters(p: dict[str, Any]) -> dict[str, Any]:
        if p.get("Filters") and p.get("ParameterFilters"):
            raise ValidationError("pass Filters or ParameterFilters, not both")
        legacy = [
            ParameterFilter.of(f["Key"], "BeginsWith" if f["Key"] == "Name" else None, f["Values"])
            for f in p.get("Filters") or []
        ]
        if p.get("Shared"):
            return {"Parameters": []}  # nothing is shared with a stageline account
        found = _filtered(parameters, legacy, p)
        page, token = _ssm_page(
            "parameters", found, p, p.get("MaxResults") or DESCRIBE_PARAMETERS_PAGE
        )
        return {"Parameters": [_metadata(x) for x in page], "NextToken": token}

    endpoint.handlers.update(
        PutParameter=put_parameter,
        GetParameter=get_parameter,
        GetParameters=get_parameters,
        GetParametersByPath=get_parameters_by_path,
        DeleteParameter=delete_parameter,
        DeleteParameters=delete_parameters,
        DescribeParameters=describe_parameters,
    )
    return endpoint


def _filtered(
    parameters: ParameterStore, extra: list[ParameterFilter], p: dict[str, Any]
) -> list[Parameter]:
    filters = extra + [
        ParameterFilter.of(f["Key"], f.get("Option"), f.get("Values") or [])
        for f in p.get("ParameterFilters") or []
    ]
    return [x for x in parameters.list() if all(f.matches(x) for f in filters)]


def _ssm_page(
    kind: str, items: list[Parameter], p: dict[str, Any], size: int
) -> tuple[list[Parameter], str | None]:
    """A page of ``items``; SSM names a bad token InvalidNextToken."""
    return paging.offset_page(kind, items, p.get("NextToken"), size, bad_token="InvalidNextToken")

"""The function store: what a user creating, reading and deleting functions notices."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stageline.functions import (
    FunctionExistsError,
    FunctionNotFoundError,
    FunctionStore,
    InvalidFunctionError,
    UnsafeCodeError,
    parse_reference,
)
from tests.unit.functions.conftest import write_code

HANDLER = "def handler(event, context):\n    return 'ok'\n"


def test_create_get_list_delete(store: FunctionStore, tmp_path: Path) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER, "lib/util.py": "X = 1\n"})
    (code / "run.sh").write_text("#!/bin/sh\n")
    (code / "run.sh").chmod(0o755)
    created = store.create(
        "notify-team",
        handler="app.handler",
        code_dir=code,
        environment={"STAGE": "prod"},
        timeout_s=30,
    )
    assert created.arn == "arn:aws:lambda:eu-west-1:210987654321:function:notify-team"
    assert (created.handler, created.runtime, created.timeout_s) == ("app.handler", "python3", 30)
    assert created.environment == {"STAGE": "prod"}

    got = store.get("notify-team")
    assert got == created
    assert (got.code_dir / "lib" / "util.py").read_text() == "X = 1\n"
    assert os.access(got.code_dir / "run.sh", os.X_OK)
    doc = json.loads((store.root / "notify-team" / "function.json").read_text())
    assert {"name", "arn", "handler", "runtime", "environment", "timeout", "created"} <= set(doc)
    assert doc["codeSha256"] == got.code_sha256 and len(got.code_sha256) == 64

    # The copy is the function's own: changing the source changes nothing.
    (code / "app.py").write_text("broken(\n")
    assert (got.code_dir / "app.py").read_text() == HANDLER

    store.create("other", handler="app.handler", code_dir=code)
    assert [f.name for f in store.list()] == ["notify-team", "other"]
    store.delete("notify-team")
    assert [f.name for f in store.list()] == ["other"]
    with pytest.raises(FunctionNotFoundError, match="stageline function create notify-team"):
        store.get("notify-team")
    with pytest.raises(FunctionNotFoundError):
        store.delete("notify-team")


def test_same_tree_same_digest(store: FunctionStore, tmp_path: Path) -> None:
    a = write_code(tmp_path / "a", {"app.py": HANDLER})
    b = write_code(tmp_path / "b", {"app.py": HANDLER})
    assert (
        store.create("a", handler="app.handler", code_dir=a).code_sha256
        == store.create("b", handler="app.handler", code_dir=b).code_sha256
    )


def test_a_second_create_conflicts_and_keeps_the_first(
    store: FunctionStore, tmp_path: Path
) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    first = store.create("fn", handler="app.handler", code_dir=code)
    with pytest.raises(FunctionExistsError, match="exists already"):
        store.create("fn", handler="other.handler", code_dir=code)
    assert store.get("fn") == first


@pytest.mark.parametrize(
    "name",
    ["", "a" * 65, "../escape", "a/b", "..", ".", "a b", "naïve", "x\x00y", "-x;rm -rf", "~root"],
)
def test_hostile_names_are_refused_everywhere(
    store: FunctionStore, tmp_path: Path, name: str
) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    with pytest.raises(InvalidFunctionError, match="function name"):
        store.create(name, handler="app.handler", code_dir=code)
    for call in (store.get, store.delete):
        with pytest.raises(InvalidFunctionError):
            call(name)
    assert store.list() == []
    assert not (tmp_path / "escape").exists()


def test_names_lambda_allows(store: FunctionStore, tmp_path: Path) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    for name in ("a", "A-b_c-9", "x" * 64, "-", "_"):
        store.create(name, handler="app.handler", code_dir=code)
    assert len(store.list()) == 5


def test_symlinks_that_leave_the_code_are_refused(store: FunctionStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    for link, target in (("leak", str(secret)), ("up", "../secret.txt"), ("root", "/etc")):
        code = write_code(tmp_path / f"src-{link}", {"app.py": HANDLER})
        (code / link).symlink_to(target)
        with pytest.raises(UnsafeCodeError, match=f"symlink '{link}'.*outside"):
            store.create("fn", handler="app.handler", code_dir=code)
    # A chain of links that ends outside is refused too.
    code = write_code(tmp_path / "src-chain", {"app.py": HANDLER})
    (code / "b").symlink_to("../secret.txt")
    (code / "a").symlink_to("b")
    with pytest.raises(UnsafeCodeError):
        store.create("fn", handler="app.handler", code_dir=code)
    assert store.list() == []
    assert not any((store.root / ".staging").iterdir())


def test_symlinks_inside_the_code_point_into_the_copy(store: FunctionStore, tmp_path: Path) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER, "conf/settings.json": "{}"})
    (code / "settings.json").symlink_to(code / "conf" / "settings.json")  # absolute, inside
    (code / "conf-dir").symlink_to("conf")
    function = store.create("fn", handler="app.handler", code_dir=code)
    copied = function.code_dir / "settings.json"
    assert copied.is_symlink() and not os.readlink(copied).startswith("/")
    assert copied.resolve() == (function.code_dir / "conf" / "settings.json").resolve()
    assert (function.code_dir / "conf-dir" / "settings.json").read_text() == "{}"


def test_special_files_and_oversized_code_are_refused(tmp_path: Path) -> None:
    store = FunctionStore(tmp_path / "data", max_code_bytes=1000)
    code = write_code(tmp_path / "fifo", {"app.py": HANDLER})
    os.mkfifo(code / "pipe")
    with pytest.raises(UnsafeCodeError, match="'pipe' is not a regular file"):
        store.create("fn", handler="app.handler", code_dir=code)
    big = write_code(tmp_path / "big", {"app.py": HANDLER, "data.bin": "x" * 2000})
    with pytest.raises(UnsafeCodeError, match="larger than"):
        store.create("fn", handler="app.handler", code_dir=big)
    with pytest.raises(UnsafeCodeError, match="does not exist"):
        store.create("fn", handler="app.handler", code_dir=tmp_path / "missing")
    assert store.list() == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"handler": "app"}, "MODULE.FUNCTION"),
        ({"handler": "app.handler; rm -rf /"}, "MODULE.FUNCTION"),
        ({"handler": "app.handler", "timeout_s": 0}, "timeout"),
        ({"handler": "app.handler", "timeout_s": 901}, "timeout"),
        ({"handler": "app.handler", "runtime": "nodejs20.x"}, "runtime"),
        ({"handler": "app.handler", "environment": {"AWS_REGION": "x"}}, "reserved keys"),
        ({"handler": "app.handler", "environment": {"1BAD": "x"}}, "variable name"),
        ({"handler": "app.handler", "environment": {"BIG": "x" * 5000}}, "4096-byte"),
    ],
)
def test_configuration_lambda_would_refuse(
    store: FunctionStore, tmp_path: Path, kwargs: dict[str, object], match: str
) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    with pytest.raises(InvalidFunctionError, match=match):
        store.create("fn", code_dir=code, **kwargs)  # type: ignore[arg-type]
    assert store.list() == []


def test_update_code_keeps_the_configuration(store: FunctionStore, tmp_path: Path) -> None:
    v1 = write_code(tmp_path / "v1", {"app.py": HANDLER})
    v2 = write_code(tmp_path / "v2", {"app.py": "def handler(e, c):\n    return 2\n"})
    before = store.create("fn", handler="app.handler", code_dir=v1, environment={"A1": "1"})
    after = store.update_code("fn", v2)
    assert after.environment == {"A1": "1"} and after.created == before.created
    assert after.code_sha256 != before.code_sha256
    assert "return 2" in (after.code_dir / "app.py").read_text()
    assert not before.code_dir.exists()
    assert store.get("fn") == after


def test_function_name_references(store: FunctionStore, tmp_path: Path) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    store.create("deploy-hook", handler="app.handler", code_dir=code)
    for reference in (
        "deploy-hook",
        "deploy-hook:prod",
        "deploy-hook:$LATEST",
        "210987654321:function:deploy-hook",
        "arn:aws:lambda:eu-west-1:210987654321:function:deploy-hook",
        "arn:aws:lambda:us-east-1:111122223333:function:deploy-hook:7",
    ):
        assert store.resolve(reference).name == "deploy-hook", reference
    assert parse_reference("fn:live").qualifier == "live"
    for bad in ("", "arn:aws:s3:::bucket", "a/b", "fn:", "../fn"):
        with pytest.raises(InvalidFunctionError):
            parse_reference(bad)


def test_snapshot_copies_the_current_code(store: FunctionStore, tmp_path: Path) -> None:
    code = write_code(tmp_path / "src", {"app.py": HANDLER})
    store.create("fn", handler="app.handler", code_dir=code)
    function = store.snapshot("fn", tmp_path / "run" / "code")
    assert function.name == "fn"
    assert (tmp_path / "run" / "code" / "app.py").read_text() == HANDLER

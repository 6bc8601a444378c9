"""The framework recipes of docs/recipes.md, run as printed with each framework's test client."""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlrkit
from dlrkit.testing import make_dlr_payload
from dlrkit.testing import strategies as dlr_st
from dlrkit.testing.clients import asgi_request, django_request, werkzeug_request

DOC = (Path(__file__).parent.parent / "docs" / "recipes.md").read_text(encoding="utf-8")
SECRET = "recipe-test-secret"
PATH = "/webhooks/delivery-receipt"
CONTENT_TYPES = {"form": "application/x-www-form-urlencoded", "json": "application/json"}


def recipe(name: str) -> str:
    match = re.search(rf"<!-- recipe: {name} -->\n```python\n(.*?)```", DOC, re.DOTALL)
    assert match, f"recipe {name!r} is missing from docs/recipes.md"
    return match.group(1)


LOADS = itertools.count()


def load(name: str, monkeypatch: pytest.MonkeyPatch, signed: bool = True) -> types.ModuleType:
    if signed:
        monkeypatch.setenv("DLR_SIGNATURE_SECRET", SECRET)
    else:
        monkeypatch.delenv("DLR_SIGNATURE_SECRET", raising=False)
    # A name of its own each time: two loads are two workers' copies.
    module = types.ModuleType(f"dlrkit_recipe_{name}_{next(LOADS)}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(recipe(name), f"docs/recipes.md:{name}", "exec"), module.__dict__)
    return module


class Answer(NamedTuple):
    status: int
    text: str
    content_type: str


# A client is (method, query, content_type, body) -> Answer. The query is
# bytes as they go on the wire: every framework's test client is given them raw.
Client = Callable[[str, "str | bytes", "str | None", bytes], Answer]


def raw_query(query: str | bytes) -> bytes:
    return query.encode() if isinstance(query, str) else query


def flask_client(
    monkeypatch: pytest.MonkeyPatch, signed: bool = True
) -> tuple[types.ModuleType, Client]:
    pytest.importorskip("flask")
    module = load("flask", monkeypatch, signed)
    client = module.app.test_client()

    def send(method: str, query: str | bytes, content_type: str | None, body: bytes) -> Answer:
        response = werkzeug_request(
            client, method, PATH, query=raw_query(query), body=body, content_type=content_type
        )
        return Answer(response.status_code, response.get_data(as_text=True), response.mimetype)

    return module, send


def django_client(
    monkeypatch: pytest.MonkeyPatch, signed: bool = True
) -> tuple[types.ModuleType, Client]:
    pytest.importorskip("django")
    import django
    from django.conf import settings
    from django.test import Client as DjangoClient
    from django.urls import clear_url_caches

    module = load("django", monkeypatch, signed)
    if not settings.configured:
        settings.configure(
            DEBUG=False, SECRET_KEY="test", ALLOWED_HOSTS=["testserver"], MIDDLEWARE=[]
        )
        django.setup()
    monkeypatch.setattr(settings, "ROOT_URLCONF", module.__name__, raising=False)
    client = DjangoClient()

    def send(method: str, query: str | bytes, content_type: str | None, body: bytes) -> Answer:
        settings.ROOT_URLCONF = module.__name__  # another copy may have been loaded since
        clear_url_caches()
        response = django_request(
            client, method, PATH, query=raw_query(query), body=body, content_type=content_type
        )
        kind = response.headers.get("Content-Type", "").split(";")[0]
        return Answer(response.status_code, response.content.decode(errors="replace"), kind)

    return module, send


def fastapi_client(
    monkeypatch: pytest.MonkeyPatch, signed: bool = True
) -> tuple[types.ModuleType, Client]:
    pytest.importorskip("fastapi")
    module = load("fastapi", monkeypatch, signed)

    def send(method: str, query: str | bytes, content_type: str | None, body: bytes) -> Answer:
        # Straight through ASGI: httpx cannot send a query's raw bytes.
        headers = {"content-type": content_type} if content_type else {}
        answer = asgi_request(
            module.app, method, PATH, query=raw_query(query), body=body, headers=headers
        )
        kind = answer.headers.get("content-type", "").split(";")[0]
        return Answer(answer.status, answer.body.decode(errors="replace"), kind)

    return module, send


CLIENTS = {"flask": flask_client, "django": django_client, "fastapi": fastapi_client}


@pytest.fixture(autouse=True)
def state_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The database of the recipes' shared replay guard: one per test."""
    path = tmp_path / "dlr-state.db"
    monkeypatch.setenv("DLR_STATE_DB", str(path))
    return path


@pytest.fixture(params=sorted(CLIENTS))
def app(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[types.ModuleType, Client]]:
    yield CLIENTS[request.param](monkeypatch)


@pytest.fixture(params=sorted(CLIENTS))
def unsigned_app(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[types.ModuleType, Client]]:
    """The recipe without signing: every request reaches the parser."""
    yield CLIENTS[request.param](monkeypatch, signed=False)


def error_of(text: str) -> dict[str, str]:
    """The error in a refusal's JSON body (FastAPI puts it under "detail")."""
    body = json.loads(text)
    return body.get("detail", body)  # type: ignore[no-any-return]


def send_payload(client: Client, encoding: str, payload: bytes) -> Answer:
    if encoding == "query":
        return client("GET", payload, None, b"")
    return client("POST", "", CONTENT_TYPES[encoding], payload)


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_signed_receipt_is_accepted_and_queued(
    app: tuple[types.ModuleType, Client], encoding: str
) -> None:
    module, client = app
    payload = make_dlr_payload(encoding, secret=SECRET, status="failed", err_code=7)  # type: ignore[arg-type]
    status, _, _ = send_payload(client, encoding, payload)
    assert status == 204
    receipt = module.receipts.get_nowait()
    assert isinstance(receipt, dlrkit.DeliveryReceipt)
    assert receipt.err_code == 7 and dlrkit.should_retry(receipt)


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_forged_receipt_is_refused_with_401(
    app: tuple[types.ModuleType, Client], encoding: str
) -> None:
    module, client = app
    payload = make_dlr_payload(encoding, secret="not the secret")  # type: ignore[arg-type]
    status, text, kind = send_payload(client, encoding, payload)
    assert status == 401 and kind == "application/json"
    assert "signature does not match" in error_of(text)["error"]
    assert error_of(text)["reason"] == "mismatch"
    assert module.receipts.empty()


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_malformed_receipt_is_refused_with_400(
    app: tuple[types.ModuleType, Client], encoding: str
) -> None:
    module, client = app
    # Correctly signed, so that it passes the signature check and reaches the parser.
    fields = {
        "messageId": "m",
        "msisdn": "1",
        "to": "x",
        "status": "failed",
        "err-code": "x",
        "timestamp": str(int(time.time())),
        "nonce": "n1",
    }
    if encoding == "json":
        del fields["to"]
    fields["sig"] = dlrkit.sign(fields, SECRET, "sha256")
    body = json.dumps(fields).encode() if encoding == "json" else urlencode(fields).encode()
    status, text, _ = send_payload(client, encoding, body)
    assert status == 400
    assert "err-code" in text or "missing required field" in text
    assert module.receipts.empty()


def test_unknown_content_type_is_415(app: tuple[types.ModuleType, Client]) -> None:
    _, client = app
    assert client("POST", "", "text/plain", b"hello")[0] == 415


def test_other_methods_are_405(app: tuple[types.ModuleType, Client]) -> None:
    _, client = app
    assert client("PUT", "", None, b"")[0] == 405


def test_every_recipe_is_tested() -> None:
    assert set(re.findall(r"<!-- recipe: (\w+) -->", DOC)) == set(CLIENTS)


# -- issue 15: every integration path answers 4xx, never 5xx -------------------------------


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_malformed_payloads_get_a_4xx_never_a_5xx(
    unsigned_app: tuple[types.ModuleType, Client], encoding: str, data: st.DataObject
) -> None:
    module, client = unsigned_app
    payload = data.draw(dlr_st.malformed_payloads(encoding))  # type: ignore[arg-type]
    status, text, kind = send_payload(client, encoding, payload)
    assert 400 <= status < 500, (status, text)
    assert kind == "application/json"
    assert module.receipts.empty()


@pytest.mark.parametrize(
    "query",
    [b"messageId=m&msisdn=1&to=x&status=failed&err-code=1&client-ref=\xff", b"%ff=1", b"\xff"],
)
def test_raw_bytes_that_are_not_utf8_in_the_query_are_a_400(
    unsigned_app: tuple[types.ModuleType, Client], query: bytes
) -> None:
    _, client = unsigned_app
    status, text, kind = client("GET", query, None, b"")
    assert (status, kind) == (400, "application/json"), text


def test_a_raw_utf8_query_is_read_as_utf8(unsigned_app: tuple[types.ModuleType, Client]) -> None:
    # Django handed the query over as Latin-1 text: "café" became "cafÃ©".
    module, client = unsigned_app
    query = "messageId=m&msisdn=1&to=x&status=delivered&err-code=0&client-ref=café".encode()
    assert client("GET", query, None, b"").status == 204
    assert module.receipts.get_nowait().client_ref == "café"


def test_errors_are_json_never_html(unsigned_app: tuple[types.ModuleType, Client]) -> None:
    # Flask served str(error) as text/html, reflecting the sender's markup.
    _, client = unsigned_app
    script = "<script>alert(1)</script>"
    query = urlencode({"messageId": "m", "msisdn": "1", "to": "x", "status": "failed",
                       "err-code": script})  # fmt: skip
    status, text, kind = client("GET", query, None, b"")
    assert (status, kind) == (400, "application/json")
    assert error_of(text)["field"] == "err-code"


def test_an_oversized_body_is_a_413(unsigned_app: tuple[types.ModuleType, Client]) -> None:
    _, client = unsigned_app
    body = urlencode({"messageId": "m", "client-ref": "x" * 100_000}).encode()
    status, text, kind = client("POST", "", CONTENT_TYPES["form"], body)
    assert (status, kind) == (413, "application/json"), text


def test_a_replayed_request_is_refused(app: tuple[types.ModuleType, Client]) -> None:
    # Every recipe wires a NonceCache.
    module, client = app
    payload = make_dlr_payload("form", secret=SECRET)  # type: ignore[arg-type]
    assert send_payload(client, "form", payload).status == 204
    status, text, _ = send_payload(client, "form", payload)
    assert status == 401 and error_of(text)["reason"] == "replayed"
    assert module.receipts.qsize() == 1


@pytest.mark.parametrize("name", sorted(CLIENTS))
def test_a_replay_reaching_another_worker_is_refused(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two workers: the recipe loaded twice, as each worker process imports it.
    # With a NonceCache per process, the second worker accepted the replay.
    first, first_client = CLIENTS[name](monkeypatch)
    second, second_client = CLIENTS[name](monkeypatch)
    assert first.SIGNING["nonce_cache"] is not second.SIGNING["nonce_cache"]
    payload = make_dlr_payload("form", secret=SECRET)  # type: ignore[arg-type]
    assert send_payload(first_client, "form", payload).status == 204
    status, text, _ = send_payload(second_client, "form", payload)
    assert status == 401 and error_of(text)["reason"] == "replayed"
    assert second.receipts.empty()


def test_a_replay_guard_that_cannot_record_answers_503(
    app: tuple[types.ModuleType, Client], state_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    _, client = app
    holder = sqlite3.connect(state_db, isolation_level=None)
    holder.execute("PRAGMA busy_timeout = 0")
    holder.execute("BEGIN IMMEDIATE")  # the database stays locked past the store's timeout
    module_store = None
    try:
        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("dlrkit_recipe_"):
                module_store = module.SIGNING["nonce_cache"].store
                module_store._conn.execute("PRAGMA busy_timeout = 100")
        with caplog.at_level(logging.WARNING, logger="dlrkit.contrib"):
            status, text, kind = send_payload(
                client,
                "form",
                make_dlr_payload("form", secret=SECRET),  # type: ignore[arg-type]
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert module_store is not None
    assert (status, kind) == (503, "application/json"), text
    assert error_of(text)["reason"] == "unavailable"
    assert "locked" not in text
    (record,) = [r for r in caplog.records if "(503)" in r.getMessage()]
    assert record.levelname == "ERROR" and record.exc_info is not None


def test_refusals_are_logged(
    app: tuple[types.ModuleType, Client], caplog: pytest.LogCaptureFixture
) -> None:
    _, client = app
    with caplog.at_level(logging.WARNING, logger="dlrkit.contrib"):
        send_payload(client, "form", make_dlr_payload("form", secret="not it"))  # type: ignore[arg-type]
    assert any("refused a delivery receipt (401)" in r.getMessage() for r in caplog.records)

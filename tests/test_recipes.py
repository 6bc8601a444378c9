"""The framework recipes of docs/recipes.md, run as printed with each framework's test client."""

from __future__ import annotations

import json
import re
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

import dlrkit
from dlrkit.testing import make_dlr_payload

DOC = (Path(__file__).parent.parent / "docs" / "recipes.md").read_text(encoding="utf-8")
SECRET = "recipe-test-secret"
PATH = "/webhooks/delivery-receipt"
CONTENT_TYPES = {"form": "application/x-www-form-urlencoded", "json": "application/json"}


def recipe(name: str) -> str:
    match = re.search(rf"<!-- recipe: {name} -->\n```python\n(.*?)```", DOC, re.DOTALL)
    assert match, f"recipe {name!r} is missing from docs/recipes.md"
    return match.group(1)


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    monkeypatch.setenv("DLR_SIGNATURE_SECRET", SECRET)
    module = types.ModuleType(f"dlrkit_recipe_{name}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(recipe(name), f"docs/recipes.md:{name}", "exec"), module.__dict__)
    return module


# A client is (method, query, content_type, body) -> (status, text).
Client = Callable[[str, str, "str | None", bytes], "tuple[int, str]"]


def flask_client(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, Client]:
    pytest.importorskip("flask")
    module = load("flask", monkeypatch)
    client = module.app.test_client()

    def send(method: str, query: str, content_type: str | None, body: bytes) -> tuple[int, str]:
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.open(f"{PATH}?{query}", method=method, data=body, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return module, send


def django_client(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, Client]:
    pytest.importorskip("django")
    import django
    from django.conf import settings
    from django.test import Client as DjangoClient
    from django.urls import clear_url_caches

    module = load("django", monkeypatch)
    if not settings.configured:
        settings.configure(
            DEBUG=False, SECRET_KEY="test", ALLOWED_HOSTS=["testserver"], MIDDLEWARE=[]
        )
        django.setup()
    monkeypatch.setattr(settings, "ROOT_URLCONF", module.__name__, raising=False)
    clear_url_caches()
    client = DjangoClient()

    def send(method: str, query: str, content_type: str | None, body: bytes) -> tuple[int, str]:
        response = client.generic(
            method, f"{PATH}?{query}", data=body, content_type=content_type or ""
        )
        return response.status_code, response.content.decode()

    return module, send


def fastapi_client(monkeypatch: pytest.MonkeyPatch) -> tuple[types.ModuleType, Client]:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    module = load("fastapi", monkeypatch)
    client = TestClient(module.app)

    def send(method: str, query: str, content_type: str | None, body: bytes) -> tuple[int, str]:
        headers = {"content-type": content_type} if content_type else {}
        response = client.request(method, f"{PATH}?{query}", content=body, headers=headers)
        return response.status_code, response.text

    return module, send


CLIENTS = {"flask": flask_client, "django": django_client, "fastapi": fastapi_client}


@pytest.fixture(params=sorted(CLIENTS))
def app(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[types.ModuleType, Client]]:
    yield CLIENTS[request.param](monkeypatch)


def send_payload(client: Client, encoding: str, payload: bytes) -> tuple[int, str]:
    if encoding == "query":
        return client("GET", payload.decode(), None, b"")
    return client("POST", "", CONTENT_TYPES[encoding], payload)


@pytest.mark.parametrize("encoding", ["query", "form", "json"])
def test_signed_receipt_is_accepted_and_queued(
    app: tuple[types.ModuleType, Client], encoding: str
) -> None:
    module, client = app
    payload = make_dlr_payload(encoding, secret=SECRET, status="failed", err_code=7)  # type: ignore[arg-type]
    status, _ = send_payload(client, encoding, payload)
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
    status, text = send_payload(client, encoding, payload)
    assert status == 401
    assert "signature does not match" in text
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
    status, text = send_payload(client, encoding, body)
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

"""The recipes of docs/recipes.md served by real servers with two worker processes.

Each signed request is sent three times at once; with the recipes' shared
replay guard, each is accepted by exactly one worker and refused by the
others as a replay, whichever workers the three copies reach.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from dlrkit.testing import make_dlr_payload

from .test_recipes import CONTENT_TYPES, PATH, SECRET, recipe

pytest.importorskip("gunicorn", reason="the server tests need gunicorn (the test extra)")

REQUESTS, COPIES = 120, 3


class Server(NamedTuple):
    port: int
    workers: list[int]


DJANGO_WSGI = """
import django
from django.conf import settings

settings.configure(
    DEBUG=False, SECRET_KEY="test", ALLOWED_HOSTS=["*"], MIDDLEWARE=[], ROOT_URLCONF="recipe_django"
)
django.setup()

from django.core.wsgi import get_wsgi_application

app = get_wsgi_application()
"""


def start_server(name: str, tmp_path: Path, worker_class: str) -> Iterator[Server]:
    (tmp_path / f"recipe_{name}.py").write_text(recipe(name), encoding="utf-8")
    app = f"recipe_{name}:app"
    if name == "django":  # the recipe is a URLconf: serve it from a project of one file
        (tmp_path / "django_wsgi.py").write_text(DJANGO_WSGI, encoding="utf-8")
        app = "django_wsgi:app"
    env = {
        **os.environ,
        "DLR_SIGNATURE_SECRET": SECRET,
        "DLR_STATE_DB": str(tmp_path / "state.db"),
        "PYTHONPATH": str(tmp_path),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", worker_class,
        "--bind", "127.0.0.1:0", "--chdir", str(tmp_path), "--log-level", "info", app,
    ]  # fmt: skip
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(command, env=env, stderr=log_file)
    try:
        port, workers = 0, []
        deadline = time.monotonic() + 60
        while (not port or len(workers) < 2) and time.monotonic() < deadline:
            assert server.poll() is None, log_path.read_text()
            time.sleep(0.05)
            log = log_path.read_text()
            if found := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log):
                port = int(found.group(1))
            workers = [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)]
        assert port and len(workers) == 2, log_path.read_text()
        wait_until_answering(port)
        yield Server(port, workers)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
            server.kill()
            server.wait()


def wait_until_answering(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            status, _ = send(port, "GET", b"", None, b"")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            assert status == 401  # not signed: refused, by a worker that is up
            return


def send(
    port: int, method: str, query: bytes, content_type: str | None, body: bytes
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        url = PATH + ("?" + query.decode("ascii") if query else "")
        connection.request(method, url, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def signed_requests() -> list[tuple[int, str, bytes, str | None, bytes]]:
    """(index, method, query, content type, body): the three wire forms, signed now."""
    requests = []
    for index in range(REQUESTS):
        encoding = ("query", "form", "json")[index % 3]
        payload = make_dlr_payload(encoding, secret=SECRET)  # type: ignore[arg-type]
        if encoding == "query":
            requests.append((index, "GET", payload, None, b""))
        else:
            requests.append((index, "POST", b"", CONTENT_TYPES[encoding], payload))
    return requests


@pytest.fixture(
    params=[("flask", "sync"), ("django", "sync"), ("fastapi", "uvicorn.workers.UvicornWorker")],
    ids=["flask-gunicorn", "django-gunicorn", "fastapi-gunicorn-uvicorn"],
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    name, worker_class = request.param
    pytest.importorskip(name)
    if worker_class.startswith("uvicorn"):
        pytest.importorskip("uvicorn.workers", reason="gunicorn's uvicorn worker class")
    yield from start_server(name, tmp_path, worker_class)


def test_each_signed_request_is_accepted_once_whichever_worker_it_reaches(
    server: Server,
) -> None:
    requests = signed_requests()
    copies = [request for request in requests for _ in range(COPIES)]
    random.Random(19).shuffle(copies)
    busy_before = [cpu_seconds(pid) for pid in server.workers] if sys.platform == "linux" else []

    def deliver(request: tuple[int, str, bytes, str | None, bytes]) -> tuple[int, int, bytes]:
        index, method, query, content_type, body = request
        return (index, *send(server.port, method, query, content_type, body))

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(deliver, copies))
    accepted = Counter(index for index, status, _ in answers if status == 204)
    assert all(accepted[index] == 1 for index in range(REQUESTS)), accepted
    refusals = [(status, body) for _, status, body in answers if status != 204]
    assert len(refusals) == REQUESTS * (COPIES - 1)
    for status, body in refusals:
        assert status == 401, (status, body)
        answer = json.loads(body)
        assert answer.get("detail", answer)["reason"] == "replayed"
    if busy_before:  # both workers took part: a replay could have reached the other one
        busy = [
            cpu_seconds(pid) - before
            for pid, before in zip(server.workers, busy_before, strict=True)
        ]
        assert min(busy) > 0.02, busy

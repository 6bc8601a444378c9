"""The webhooks bench_replay.py serves with gunicorn (two uvicorn workers).

``BENCH_APP`` picks one; each keeps what it receives in the SQLite database
``BENCH_DB`` (WAL, ``synchronous=FULL``) before it answers 204:

- ``handwritten``: no dlrkit. Reads the fields of the three wire forms with
  the standard library (``parse_qsl``, ``json.loads``), checks nothing, and
  inserts them as one JSON row; one transaction a request.
- ``dlrkit-memory``: the FastAPI recipe of docs/recipes.md (signature
  verified, replay guard in the worker's memory), with a ``Tracker`` on an
  ``SQLiteStore`` in place of the job queue.
- ``dlrkit-shared``: the same, with the replay guard on that ``SQLiteStore``,
  shared by both workers (the recipe as printed).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

import dlrkit
from dlrkit.contrib.fastapi import exception_handler, receipt

PATH = "/webhooks/delivery-receipt"
KIND = os.environ.get("BENCH_APP", "dlrkit-shared")
DB = os.environ.get("BENCH_DB", "bench-webhook.db")

app = FastAPI()

if KIND == "handwritten":
    connection = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=30000")
    connection.execute("CREATE TABLE IF NOT EXISTS receipts (fields TEXT NOT NULL)")
    lock = threading.Lock()

    def store(fields: dict[str, Any]) -> None:
        with lock:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO receipts VALUES (?)", (json.dumps(fields),))
            connection.execute("COMMIT")

    @app.api_route(PATH, methods=["GET", "POST"])
    async def delivery_receipt_by_hand(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        if request.method == "GET":
            fields: dict[str, Any] = dict(parse_qsl(request.scope["query_string"].decode()))
        elif content_type.startswith("application/json"):
            fields = json.loads(await request.body())
        else:
            fields = dict(parse_qsl((await request.body()).decode()))
        await run_in_threadpool(store, fields)  # the commit waits: off the event loop
        return Response(status_code=204)

else:
    app.add_exception_handler(dlrkit.DlrError, exception_handler)
    state = dlrkit.SQLiteStore(DB)
    tracker = dlrkit.Tracker(state)
    guard = dlrkit.NonceCache(state) if KIND == "dlrkit-shared" else dlrkit.NonceCache()
    webhook_receipt = receipt(
        secret=os.environ["DLR_SIGNATURE_SECRET"], signature_method="sha256", nonce_cache=guard
    )

    @app.api_route(PATH, methods=["GET", "POST"])
    def delivery_receipt(
        receipt: dlrkit.DeliveryReceipt = Depends(webhook_receipt),  # noqa: B008
    ) -> Response:
        tracker.add(receipt)  # a sync endpoint: FastAPI runs it in its thread pool
        return Response(status_code=204)

"""Regressions from the outside review of webhook trust (issue 15), one test each."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest

import dlrkit
from dlrkit.contrib._common import check_length, read_bounded
from dlrkit.testing import make_dlr_payload
from dlrkit.testing.clients import asgi_request

from .test_contrib import CountingStream

BODY = make_dlr_payload("form")
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize("header", ["0" * 20 + "200000000", "00065537", " 999999999999 "])
def test_a_padded_content_length_is_still_refused_before_reading(header: str) -> None:
    # check_length looked at the first 20 characters only: all zeros, so 0.
    with pytest.raises(dlrkit.MalformedPayloadError) as info:
        check_length(header, 65536)
    assert info.value.http_status == 413


def test_flask_reads_at_most_the_limit_whatever_the_length_says() -> None:
    flask = pytest.importorskip("flask")
    from werkzeug.test import EnvironBuilder

    from dlrkit.contrib.flask import init_app, receipt_from_request

    app = flask.Flask(__name__)
    init_app(app)
    app.add_url_rule("/dlr", "dlr", lambda: receipt_from_request().message_id, methods=["POST"])
    for length in ("0" * 20 + "200000000", "60000"):  # padded; and a lie within the limit
        environ = EnvironBuilder(path="/dlr", method="POST", content_type=FORM).get_environ()
        stream = CountingStream()
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = stream, length
        statuses: list[str] = []

        def start(status: str, headers: object, seen: list[str] = statuses) -> None:
            seen.append(status)

        b"".join(app(environ, start))
        assert statuses[0].startswith(("413", "400")), statuses
        assert stream.read_bytes <= 65536 + 8192


@pytest.mark.parametrize("header", ["\xb2", "\u0661\u0662", "1e9", "-1", "0x10"])
def test_a_content_length_that_is_no_ascii_number_is_left_to_the_server(header: str) -> None:
    check_length(header, 65536)  # it raised ValueError on "²": a 500


def test_a_body_the_server_cannot_read_is_a_400() -> None:
    class InvalidChunkSizeError(Exception):  # as gunicorn's chunked reader raises
        pass

    def read(size: int) -> bytes:
        raise InvalidChunkSizeError("zz")

    with pytest.raises(dlrkit.MalformedPayloadError, match="could not be read") as info:
        read_bounded(read, 65536)
    assert info.value.http_status == 400


def test_django_reads_a_chunked_body() -> None:
    pytest.importorskip("django")
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(DEBUG=False, SECRET_KEY="test", ALLOWED_HOSTS=["testserver"])
        django.setup()
    from django.test import RequestFactory

    from dlrkit.contrib.django import receipt_from_request

    request = RequestFactory().generic("POST", "/dlr", content_type=FORM)
    request.META.pop("CONTENT_LENGTH", None)
    request.META["wsgi.input"] = io.BytesIO(BODY)
    request.META["wsgi.input_terminated"] = True  # as gunicorn says of a chunked body
    assert receipt_from_request(request).message_id == "0B00000127FDBC63"


def test_starlette_client_gone_mid_body_is_a_400_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fastapi = pytest.importorskip("fastapi")
    from dlrkit.contrib.fastapi import receipt

    app = fastapi.FastAPI()

    @app.post("/dlr")
    async def dlr(r: dlrkit.DeliveryReceipt = fastapi.Depends(receipt())) -> str:  # noqa: B008
        return r.message_id

    with caplog.at_level(logging.ERROR):
        answer = asgi_request(
            app, "POST", "/dlr", body=[b"messageId="], headers={"content-type": FORM},
            disconnect=True,
        )  # fmt: skip
        assert answer.status == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_json_with_another_charset_is_a_415() -> None:
    for charset in ("utf-16", "rot13", "iso-8859-1"):
        with pytest.raises(dlrkit.MalformedPayloadError) as info:
            dlrkit.parse_request(
                method="POST",
                content_type=f"application/json; charset={charset}",
                body=make_dlr_payload("json"),
            )
        assert info.value.http_status == 415
    dlrkit.parse_request(
        method="POST", content_type="application/json; charset=UTF-8", body=make_dlr_payload()
    )


def test_a_replay_at_the_exact_edge_of_the_window_is_refused() -> None:
    # ttl is exactly twice max_age: the entry expired at the instant the
    # window still accepted the request.
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    fields = {"messageId": "m", "msisdn": "1", "to": "x", "status": "delivered",
              "err-code": "0", "timestamp": str(int(moment.timestamp())), "nonce": "n"}  # fmt: skip
    fields["sig"] = dlrkit.sign(fields, "s", "sha256")
    cache = dlrkit.NonceCache()
    window = timedelta(minutes=5)
    dlrkit.verify_signature(fields, "s", "sha256", now=moment - window, nonce_cache=cache)
    with pytest.raises(dlrkit.SignatureError) as info:
        dlrkit.verify_signature(fields, "s", "sha256", now=moment + window, nonce_cache=cache)
    assert info.value.reason is dlrkit.SignatureFailure.REPLAYED


def run(args: list[str], close: int | None = None) -> subprocess.CompletedProcess[str]:
    def preexec() -> None:
        if close is not None:
            os.close(close)

    return subprocess.run(
        [sys.executable, "-m", "dlrkit", *args],
        capture_output=close not in (1, 2),
        stdout=subprocess.PIPE if close == 2 else None,
        stderr=subprocess.PIPE if close == 1 else None,
        text=True,
        preexec_fn=preexec,
        timeout=120,
        check=False,
    )


def test_closed_standard_streams_are_no_internal_error() -> None:
    for args in (["report"], ["parse"]):
        result = run(args, close=0)
        assert result.returncode == 1 and "standard input is closed" in result.stderr
    result = run(["report", "--sample"], close=1)
    assert result.returncode == 1 and "standard output is closed" in result.stderr
    result = run(["report", "--sample"], close=2)
    assert result.returncode == 0 and "receipts" in result.stdout


def test_a_full_remove_list_is_named_not_the_input(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    result = subprocess.run(
        [sys.executable, "-m", "dlrkit", "report", "--sample", "-q", "--remove-list", "/dev/full"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot write /dev/full" in result.stderr and "sample" not in result.stderr


def test_paths_and_unknown_arguments_reach_the_terminal_escaped(tmp_path: Path) -> None:
    for args in (
        ["report", "--sample", "--remove-list", "/nonexistent/\x1b[31mX\nY"],
        ["parse", "a", "\x1b]0;title\x07"],
        ["report", "--html", "/nonexistent/\x1b[2J.html", "--sample"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "dlrkit", *args], capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_long_network_codes_cannot_make_the_report_large(tmp_path: Path) -> None:
    from dlrkit._report import Report

    report = Report()
    report.add_lines(
        urlencode(
            {
                "messageId": "m",
                "msisdn": "1",
                "to": "x",
                "status": "failed",
                "err-code": "3",
                "network-code": f"{n:05d}" + "x" * 4000,
            }
        )
        for n in range(2000)
    )
    assert set(report.networks) == {"(other)"} and report.receipts == 2000

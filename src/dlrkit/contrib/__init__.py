"""Thin helpers for web frameworks: Flask, Django, Starlette and FastAPI.

Each reads the raw query string and at most ``limits.max_size`` bytes of the
body, hands them to :func:`dlrkit.parse_request`, and answers a ``DlrError``
with its 4xx status and a small JSON body (never HTML, never a 500). The
core of dlrkit imports no framework: a helper imports its own framework only
when it is used (``dlrkit.contrib.fastapi`` when it is imported).
"""

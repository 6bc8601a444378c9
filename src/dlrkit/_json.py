"""JSON bodies: a flat receipt object, or any document the neighbouring formats send."""

from __future__ import annotations

import json
from typing import Any, Final

from ._codecs import text_problem
from ._errors import DlrError, InvalidFieldError, MalformedPayloadError, combined
from ._limits import DEFAULT_LIMITS, Limits
from ._payload import payload_text
from ._table import too_many_fields

__all__ = ["decode_json", "decode_json_value"]


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                values = [v for k, v in pairs if k == name]
                raise InvalidFieldError(name, values, "field is repeated")
            seen.add(name)
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# A JSON number is taken as its literal text ("err-code": 0 reads as "0"): the
# provider sends strings, but hand-written test payloads often do not, and
# the literal text never loses a price's digits to float rounding.
_JSON: Final = json.JSONDecoder(
    object_pairs_hook=_object_without_repeats,
    parse_float=str,
    parse_int=str,
    parse_constant=_refuse_constant,
)


_JSON_SPACE: Final = " \t\n\r"


def decode_json_value(body: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Decode any JSON document with the receipt parsers' safety rules.

    Size-limited, nested at most ``limits.max_depth`` deep, UTF-8 only (a byte
    order mark is allowed), no repeated keys, no ``NaN``/``Infinity``, numbers
    kept as their literal text, every name and string checked as a field is
    (length, NUL, lone surrogate escapes). Raises only ``DlrError``.
    """
    text, value = _decode_json_text(body, limits)
    _check_document(value, limits, checks_text="\\u" in text or len(text) > limits.max_value_length)
    return value


def _check_document(value: Any, limits: Limits, checks_text: bool) -> None:
    # Level by level, so that the check itself never recurses. Documents
    # deeper than Python's recursion limit never get here: the decoder
    # refuses them (RecursionError, in _decode_json_text). A NUL or a lone
    # surrogate can only come from a "\\u" escape (JSON refuses raw control
    # characters, payload_text raw surrogates), and a long string only from
    # a long text: without either, no string needs checking.
    level = [value] if type(value) in (dict, list) else []
    if checks_text and type(value) is str:
        _check_text("(document)", value, limits)
    depth = 0
    while level:
        depth += 1
        if depth > limits.max_depth:
            raise MalformedPayloadError(
                f"JSON nested more than {limits.max_depth} levels deep",
                value=f"<{depth}+ levels>",
            )
        inner_level = []
        for outer in level:
            if type(outer) is dict:
                if checks_text:
                    for name, inner in outer.items():
                        _check_text(name, name, limits)
                        if type(inner) is str:
                            _check_text(name, inner, limits)
                inner_level += [v for v in outer.values() if type(v) in (dict, list)]
            else:
                if checks_text:
                    for inner in outer:
                        if type(inner) is str:
                            _check_text("(array item)", inner, limits)
                inner_level += [v for v in outer if type(v) in (dict, list)]
        level = inner_level


def _check_text(name: str, text: str, limits: Limits) -> None:
    problem = text_problem(text, limits.max_value_length)
    if problem is not None:
        raise InvalidFieldError(_printable(name), _printable(text), problem)


def _decode_json_text(body: bytes | str, limits: Limits) -> tuple[str, Any]:
    text = _json_text(body, limits)
    return text, _decode(text)


def _json_text(body: bytes | str, limits: Limits) -> str:
    text = payload_text(body, "utf-8", limits)
    if text.startswith("\ufeff"):
        text = text[1:]
    # JSONDecoder.decode() less its two whitespace regexes: JSON's own four
    # whitespace characters are stripped here, trailing data refused below.
    return text.strip(_JSON_SPACE)


def _decode(text: str) -> Any:
    try:
        value, end = _JSON.raw_decode(text)
        if end != len(text):
            raise ValueError(f"extra data after the JSON value at position {end}")
        return value
    except (InvalidFieldError, MalformedPayloadError):
        raise
    except (ValueError, RecursionError) as exc:
        raise MalformedPayloadError(f"body is not valid JSON: {exc}", value=text) from None


# The usual receipt's object, decoded in C with no Python hook at all.
_PLAIN: Final = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=_refuse_constant)
_STR: Final = frozenset({str})


def _quick_object(text: str, limits: Limits) -> dict[str, str] | None:
    """:func:`decode_json`'s result for a flat object of strings; None for anything else.

    Without a backslash, the text has no escape, so no string can hold a NUL
    or a lone surrogate (see _check_document), and every ``"`` starts or ends
    a string: a flat object of N string values has exactly 4N of them, and a
    repeated name shows as a dict with fewer entries than that. Anything else
    (other values, repeats, errors) is left to the general decoder and its
    exact message; a test holds the two alike.
    """
    if not text.startswith("{") or "\\" in text or len(text) > limits.max_value_length:
        return None
    try:
        obj, end = _PLAIN.raw_decode(text)
    except (ValueError, RecursionError):
        return None
    if (
        end != len(text)
        or type(obj) is not dict
        or len(obj) > limits.max_fields
        or not _STR.issuperset(map(type, obj.values()))
        or text.count('"') != 4 * len(obj)
    ):
        return None
    return obj


def decode_json(body: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> dict[str, str]:
    """Decode a JSON body into a ``str -> str`` mapping.

    The body must be one flat JSON object. String values are kept, numbers
    become their literal text, ``null`` becomes the string ``"null"`` (which
    :func:`~dlrkit.parse` reads as absent); booleans, arrays and objects are
    refused, as are repeated keys and escaped lone surrogates.
    """
    text = _json_text(body, limits)
    quick = _quick_object(text, limits)
    if quick is not None:
        return quick
    obj = _decode(text)
    if type(obj) is not dict:
        raise MalformedPayloadError(
            f"JSON body must be an object, got {type(obj).__name__}", value=body
        )
    if len(obj) > limits.max_fields:
        raise too_many_fields(limits)
    longest = limits.max_value_length
    # See _check_document: without escapes or a long text, no check is needed.
    escaped = "\\u" in text
    long_text = len(text) > longest
    problems: list[DlrError] | None = None
    for name, value in obj.items():
        try:
            if type(value) is str:
                if escaped or long_text:
                    _check_text(name, name, limits)
                    _check_text(name, value, limits)
            elif value is None:
                obj[name] = "null"
            else:
                raise InvalidFieldError(
                    name, value, f"expected a string, got a JSON {_json_kind(value)}"
                )
        except DlrError as error:
            problems = [*(problems or ()), error]
    if problems:
        raise combined(problems)
    return obj


def _json_kind(value: object) -> str:
    return {bool: "boolean", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _printable(text: str) -> str:
    # Lone surrogates as \udXXX escapes; every other character kept.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")

"""One table-driven way to read every format's fields.

A format is a :class:`Table` of :class:`FieldSpec` rows: wire name, Python
attribute, whether it is required, and the codec (from ``_codecs``) that reads
its text. :meth:`Table.read` is the one loop every parser runs: it turns a
mapping of wire fields into typed values by attribute, the raw text of each
typed field, and the fields the table does not know (kept, never dropped).
Only ``DlrError`` leaves it.

Values arrive as text, but mappings that a caller decoded itself hold other
things; the rules are the same for every format:

* a ``str`` (or a ``str`` subclass) is the text;
* a one-element list is its element, an empty list is absent, a longer one
  is a repeated field and refused (frameworks give lists for queries);
* an ``int`` is its decimal text (a JSON number from ``json.loads``);
* ``None`` is absent; so are the table's absent markers (``""``, ``"null"``);
* anything else (a float, a bool, an object where text is expected) is
  refused: a float cannot hold a price exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from ._codecs import DecodeError, int_text, text_problem
from ._errors import (
    DlrError,
    InvalidFieldError,
    MalformedPayloadError,
    MissingFieldError,
    combined,
    quote,
)
from ._frozen import FrozenMap
from ._limits import Limits

__all__ = [
    "ABSENT",
    "FieldSpec",
    "Nested",
    "Table",
    "check_mapping",
    "freeze_json",
    "refuse_repeats",
    "single_value",
]

ABSENT: Final = frozenset({"", "null"})
"""Values that mean "not sent" for an optional field: some SDKs and proxies
write a missing value as the literal string ``null``."""


class Nested(NamedTuple):
    """A field whose value is a JSON object (or, with *many*, an array of them).

    Read with its own *table*. With *build*, the values become one object per
    JSON object (``MessageError``, ``SentPart``); without, they join the
    parent's values (``usage.price`` becomes ``price``).
    """

    table: Table
    build: Callable[..., Any] | None = None
    many: bool = False


class FieldSpec(NamedTuple):
    """How one wire field maps to an attribute."""

    wire: str
    attr: str
    required: bool = False
    decode: Callable[[str], Any] | None = None  # None: the text itself
    encode: Callable[[Any], str] = str
    nested: Nested | None = None

    def matches(self, raw: str, value: object) -> bool:
        """True when *raw* still stands for *value* (so ``to_wire`` can repeat it)."""
        if raw in ABSENT and not self.required:
            return value is None
        if self.decode is None:
            return raw == value
        try:
            return bool(self.decode(raw) == value)
        except DecodeError:
            return False


def single_value(name: object, value: object) -> str | None:
    """The one text of a field's value, by the rules in this module's docstring."""
    if type(value) is str:
        return value
    if isinstance(value, (list, tuple)):
        if not value:
            return None
        if len(value) > 1:
            raise InvalidFieldError(_name(name), list(value), "field is repeated")
        value = value[0]
        if isinstance(value, (list, tuple)):  # a list is one level deep, as frameworks give
            raise InvalidFieldError(_name(name), value, f"expected a string, got {_kind(value)}")
    if isinstance(value, str):
        return str.__str__(value)  # a str subclass (an enum, a framework's string)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return int_text(value)
        except DecodeError as error:
            raise InvalidFieldError(_name(name), value, str(error)) from None
    raise InvalidFieldError(_name(name), value, f"expected a string, got {_kind(value)}")


def _kind(value: object) -> str:
    names = {bool: "a boolean", float: "a float", dict: "an object", list: "an array"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _name(name: object) -> str:
    return name if isinstance(name, str) else quote(name)


class Table:
    """The fields of one format, and the one loop that reads them.

    *strip*: surrounding whitespace is not part of a value (CSV cells).
    *json_extra*: unknown fields may hold any JSON value (kept frozen: objects
    as read-only mappings, arrays as tuples); otherwise they must be text.
    """

    def __init__(self, *specs: FieldSpec, strip: bool = False, json_extra: bool = False) -> None:
        self.specs: Mapping[str, FieldSpec] = {spec.wire: spec for spec in specs}
        self.strip = strip
        self.json_extra = json_extra
        # Unpacked for the loop: wire name -> (attr, decode, required). A
        # nested field's "codec" refuses text, so that the loop's text path
        # needs no test for it; its objects are read through _nested.
        self._handlers: Final = {
            s.wire: (s.attr, _not_text if s.nested else s.decode, s.required) for s in specs
        }
        self._nested: Final = {s.wire: s.nested for s in specs if s.nested is not None}
        self._required: Final = tuple((s.attr, s.wire) for s in specs if s.required)
        self._required_attrs: Final = frozenset(attr for attr, _ in self._required)

    def __iter__(self) -> Any:
        return iter(self.specs.values())

    def read(
        self,
        fields: Mapping[Any, Any],
        limits: Limits | None = None,
        where: str = "",
        depth: int = 1,
        budget: list[int] | None = None,
    ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any] | None]:
        """Typed values by attribute, raw text of typed fields by wire name, unknown fields.

        With *limits*, the number of fields and every name and text value
        (length, NUL, lone surrogates) are checked first. Without, the caller
        vouches for them: the wire decoders check as they decode. *where*
        prefixes field names in errors (``messages[0].``); *depth* is the
        level *fields* sits at in its document, and *budget* what is left of
        the document's ``max_size`` items (see :func:`freeze_json`).
        """
        if limits is not None:
            if budget is None:
                budget = [limits.max_size]
            if depth > limits.max_depth:
                raise MalformedPayloadError(
                    f"JSON nested more than {limits.max_depth} levels deep",
                    value=f"<{depth} levels>",
                )
        try:
            items = fields.items()
        except AttributeError:
            raise MalformedPayloadError(
                f"expected a mapping of fields, got {type(fields).__name__}", value=fields
            ) from None
        if limits is not None:
            check_mapping(fields, limits, where)
        if self.strip:
            items = [(k, v.strip() if isinstance(v, str) else v) for k, v in items]  # type: ignore[assignment]
        handlers = self._handlers
        values: dict[str, Any] = {}
        raw: dict[str, str] = {}
        extra: dict[str, Any] | None = None
        problems: list[DlrError] | None = None  # every field is read, and all are reported
        for name, given in items:
            try:
                handler = handlers.get(name)
                if handler is None:
                    key = _field_name(name, where)
                    value = self._extra_value(where + key, given, limits, depth, budget)
                    if value is not None:
                        if extra is None:
                            extra = {}
                        extra[key] = value
                    continue
                attr, decode, required = handler
                if type(given) is not str:
                    nested = self._nested.get(name)
                    if nested is not None and given is not None and not isinstance(given, str):
                        inner_extra = _read_nested(
                            values, attr, where + name, nested, given, limits, depth, budget
                        )
                        if inner_extra:
                            if extra is None:
                                extra = {}
                            extra[name] = FrozenMap._adopt(inner_extra)
                        continue
                    given = single_value(where + name, given)
                    if given is None:
                        if required:
                            raise MissingFieldError(where + name)
                        continue
                if given in ABSENT:
                    if required:
                        raise MissingFieldError(where + name, value=given)
                    raw[name] = given
                elif decode is None:
                    values[attr] = given
                else:
                    raw[name] = given
                    try:
                        values[attr] = decode(given)
                    except DecodeError as exc:
                        raise InvalidFieldError(where + name, given, str(exc)) from None
            except DlrError as error:
                if problems is None:
                    problems = []
                problems.append(error)
        if problems is None and self._required_attrs <= values.keys():
            return values, raw, extra  # every required field read: the usual case
        for attr, wire in self._required:
            if attr not in values and wire not in raw and not _reported(problems, where + wire):
                if problems is None:
                    problems = []
                problems.append(MissingFieldError(where + wire))
        if problems:
            raise combined(problems)
        return values, raw, extra

    def _extra_value(
        self,
        path: str,
        given: object,
        limits: Limits | None,
        depth: int,
        budget: list[int] | None,
    ) -> Any:
        # Text was checked against the limits with the mapping; what nests is
        # checked as it is frozen.
        if self.json_extra:
            return freeze_json(path, given, limits, depth + 1, budget)
        return single_value(path, given)


def _reported(problems: list[DlrError] | None, field: str) -> bool:
    return problems is not None and any(p.field == field for e in problems for p in e.problems)


def _not_text(text: str) -> Any:
    raise DecodeError("expected an object")


def _field_name(name: object, where: str) -> str:
    if type(name) is str:
        return name
    if isinstance(name, str):
        return str.__str__(name)
    raise InvalidFieldError(where + quote(name), name, "field names must be strings")


def _read_nested(
    values: dict[str, Any],
    attr: str,
    path: str,
    nested: Nested,
    given: object,
    limits: Limits | None,
    depth: int,
    budget: list[int] | None,
) -> dict[str, Any] | None:
    """Read a nested field into *values*; returns the unknown fields of a flattened object."""
    table, build = nested.table, nested.build
    if nested.many:
        if not isinstance(given, (list, tuple)):
            raise InvalidFieldError(path, given, "expected an array")
        values[attr] = tuple(
            _built(build, *_object(table, item, f"{path}[{index}]", limits, depth + 2, budget))
            for index, item in enumerate(given)
        )
        return None
    inner, inner_extra = _object(table, given, path, limits, depth + 1, budget)
    if build is not None:
        values[attr] = _built(build, inner, inner_extra)
        return None
    values.update(inner)
    return inner_extra


def _object(
    table: Table,
    given: object,
    path: str,
    limits: Limits | None,
    depth: int,
    budget: list[int] | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if not isinstance(given, Mapping):
        raise InvalidFieldError(path, given, "expected an object")
    values, _, extra = table.read(given, limits, path + ".", depth, budget)
    return values, extra


def _built(
    build: Callable[..., Any] | None, values: dict[str, Any], extra: dict[str, Any] | None
) -> Any:
    assert build is not None, "a Nested table with many=True needs build="
    return build(**values, extra=FrozenMap._adopt(extra) if extra else _NOTHING)


_NOTHING: Final[FrozenMap[str, Any]] = FrozenMap()


def freeze_json(
    path: str, value: object, limits: Limits | None, depth: int, budget: list[int] | None
) -> Any:
    """A JSON value made immutable: objects as read-only mappings, arrays as tuples.

    *depth* is the level *value* sits at (the document itself is level 1).
    With *limits*, for mappings built by a caller (which no decoder has
    checked): every name and string is checked as a field is, each object
    holds at most ``max_fields`` fields, the nesting is at most
    ``max_depth``, and the document at most ``max_size`` items in all
    (*budget*), so that even a structure that repeats one list many times
    costs bounded work.
    """
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise MalformedPayloadError(f"{path} holds too many items", value=None, http_status=413)
    if isinstance(value, str):
        text = str.__str__(value)
        if limits is not None:
            problem = text_problem(text, limits.max_value_length)
            if problem is not None:
                raise InvalidFieldError(path, text, problem)
        return text
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        try:
            return int_text(value)
        except DecodeError as error:
            raise InvalidFieldError(path, value, str(error)) from None
    if limits is not None and depth > limits.max_depth:
        raise MalformedPayloadError(
            f"JSON nested more than {limits.max_depth} levels deep", value=f"<{depth} levels>"
        )
    if isinstance(value, Mapping):
        if limits is not None and len(value) > limits.max_fields:
            raise too_many_fields(limits)
        frozen = {}
        for key, inner in value.items():
            name = _field_name(key, path + ".")
            if limits is not None:
                problem = text_problem(name, limits.max_value_length)
                if problem is not None:
                    raise InvalidFieldError(f"{path}.{quote(name)}", name, problem)
            frozen[name] = freeze_json(f"{path}.{name}", inner, limits, depth + 1, budget)
        return FrozenMap._adopt(frozen)
    if isinstance(value, (list, tuple)):
        return tuple(
            freeze_json(f"{path}[{i}]", inner, limits, depth + 1, budget)
            for i, inner in enumerate(value)
        )
    raise InvalidFieldError(path, value, f"expected a JSON value, got {_kind(value)}")


def too_many_fields(limits: Limits) -> MalformedPayloadError:
    return MalformedPayloadError(
        f"payload has more than {limits.max_fields} fields", value=None, http_status=413
    )


def refuse_repeats(fields: Mapping[Any, Any]) -> None:
    """Refuse a key with several values in a framework's multi-valued mapping.

    Werkzeug's ``MultiDict`` (Flask's ``request.args``/``form``), Django's
    ``QueryDict`` and Starlette's ``ImmutableMultiDict`` show one value per
    key through ``items()`` (the first, or the last), hiding a repeat that
    the signature check and the parser must both see. All three have
    ``getlist``.
    """
    if type(fields) is dict:
        return
    getlist = getattr(fields, "getlist", None)
    if not callable(getlist):
        return
    for name in fields:
        values = getlist(name)
        if len(values) > 1:
            raise InvalidFieldError(_name(name), list(values), "field is repeated")


def check_mapping(fields: Mapping[Any, Any], limits: Limits, where: str = "") -> None:
    """What the wire decoders check as they decode, for a flat mapping from elsewhere.

    A framework's ``request.args``, a message queue's payload, a stored
    record: the number of fields, repeats hidden in a multi-valued mapping,
    and each name and text value (length, NUL, lone surrogates). Values that
    are not text are left to the table.
    """
    plain = type(fields) is dict  # no ABC check, no hidden repeats
    if not plain and not isinstance(fields, Mapping):
        return  # Table.read refuses it with a clear error
    if len(fields) > limits.max_fields:
        raise too_many_fields(limits)
    if not plain:
        refuse_repeats(fields)
    longest = limits.max_value_length
    try:
        # All-text mappings (the usual case) are checked in C, at once: if
        # all the names (values) together pass, so does each one.
        names, values = "".join(fields), "".join(fields.values())
    except TypeError:
        pass  # list values or odd names: field by field below
    else:
        if (
            len(names) <= longest
            and len(values) <= longest
            and "\x00" not in names
            and "\x00" not in values
            and ((names.isascii() and values.isascii()) or _encodable(names + values))
        ):
            return
    for name, value in fields.items():
        texts = value if isinstance(value, (list, tuple)) else (value,)
        for text in (name, *texts):
            if isinstance(text, str):
                problem = text_problem(text, longest)
                if problem is not None:
                    raise InvalidFieldError(where + _name(name), value, problem)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

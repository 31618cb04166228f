"""Klaviyo's `filter=` syntax: `equals(name,'Gold')`, `any(id,['a','b'])`, `and(...)`.

Each endpoint declares the fields it filters on and the operators each allows, as the spec's
parameter descriptions do; anything else is a 400 naming the `filter` parameter. Values follow
Klaviyo's quoting: strings in single or double quotes, datetimes, numbers, booleans and `null`
bare; `any` takes a bracketed list, the other operators one value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from joyctl.sandbox.clock import parse_iso
from joyctl.sandbox.jsonapi import ApiError, invalid

R = TypeVar("R")

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "greater-than": lambda actual, wanted: bool(actual > wanted),
    "greater-or-equal": lambda actual, wanted: bool(actual >= wanted),
    "less-than": lambda actual, wanted: bool(actual < wanted),
    "less-or-equal": lambda actual, wanted: bool(actual <= wanted),
}


@dataclass(frozen=True)
class Condition:
    operator: str
    field: str
    value: Any = None


@dataclass(frozen=True)
class FilterField(Generic[R]):
    getter: Callable[[R], Any]
    operators: frozenset[str]
    kind: str = "str"  # str | email | number | datetime | bool


# Items whose field may equal one of the given values, in the order a scan would meet them: a
# superset of the matches (every condition is still checked on each), found by an index.
Lookup = Callable[[list[str]], Iterable[R]]
_INDEXABLE_OPERATORS = ("equals", "any")
_TEXT_KINDS = ("str", "email")


def field_spec(getter: Callable[[R], Any], operators: str, kind: str = "str") -> FilterField[R]:
    return FilterField(getter, frozenset(operators.split()), kind)


def _bad(detail: str) -> ApiError:
    return invalid(detail, parameter="filter")


class Quoted(str):
    """A string value that was quoted in the filter (a bare token is a plain str)."""

    __slots__ = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _bad(f"Invalid filter: expected {char!r} at position {self.pos}.")
        self.pos += 1

    def name(self) -> str:
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() in "-_.$"):
            self.pos += 1
        if start == self.pos:
            raise _bad(f"Invalid filter: expected a name at position {self.pos}.")
        return self.text[start : self.pos]

    def expressions(self) -> list[Condition]:
        conditions = self.expression()
        while self.peek() == ",":
            self.pos += 1
            conditions.extend(self.expression())
        return conditions

    def expression(self) -> list[Condition]:
        operator = self.name()
        self.expect("(")
        if operator == "and":
            conditions = self.expressions()
            self.expect(")")
            return conditions
        if operator in ("or", "not"):
            raise _bad(f"The '{operator}' operator is not supported here.")
        field_name = self.name()
        value: Any = None
        if self.peek() == ",":
            self.pos += 1
            value = self.value()
        self.expect(")")
        return [Condition(operator, field_name, value)]

    def value(self) -> Any:
        char = self.peek()
        if char in "'\"":
            return self.quoted(char)
        if char == "[":
            return self.items()
        start = self.pos
        while self.peek() and self.peek() not in ",)]":
            self.pos += 1
        return _bare(self.text[start : self.pos].strip())

    def quoted(self, quote: str) -> str:
        self.pos += 1
        end = self.text.find(quote, self.pos)
        if end < 0:
            raise _bad("Invalid filter: unterminated string.")
        value = self.text[self.pos : end]
        self.pos = end + 1
        return Quoted(value)

    def items(self) -> list[Any]:
        self.expect("[")
        values: list[Any] = []
        while self.peek() != "]":
            values.append(self.value())
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise _bad("Invalid filter: expected ',' or ']' in a list.")
        self.pos += 1
        return values


def _bare(token: str) -> Any:
    literals: dict[str, Any] = {"true": True, "false": False, "null": None}
    if token in literals:
        return literals[token]
    for convert in (int, float):
        try:
            return convert(token)
        except ValueError:
            continue
    return token


def parse_filter(text: str) -> list[Condition]:
    parser = _Parser(text.strip())
    conditions = parser.expressions()
    if parser.pos != len(parser.text):
        raise _bad(f"Invalid filter: unexpected text at position {parser.pos}.")
    return conditions


def _coerce(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        parsed = parse_iso(str(value))
        if parsed is None:
            raise _bad(f"'{value}' is not a valid datetime.")
        return parsed
    if kind == "number":
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise _bad(f"'{value}' is not a number.") from exc
    if kind == "bool":
        return value is True or str(value).lower() == "true"
    text = str(value)
    return text.lower() if kind == "email" else text


def _matches(actual: Any, condition: Condition, kind: str) -> bool:
    operator, wanted = condition.operator, condition.value
    if operator == "has":
        return actual not in (None, "", [], {})
    value = _coerce(actual, kind)
    if operator in ("equals", "any"):
        options = wanted if isinstance(wanted, list) else [wanted]
        return value in [_coerce(option, kind) for option in options]
    if value is None:
        return False
    if operator == "contains":
        return str(wanted).lower() in str(value).lower()
    return _COMPARISONS[operator](value, _coerce(wanted, kind))


def _check_fields(conditions: list[Condition], fields: Mapping[str, FilterField[R]]) -> None:
    for condition in conditions:
        spec = fields.get(condition.field)
        if spec is None:
            raise _bad(f"'{condition.field}' is not a valid filter field for this resource.")
        if condition.operator not in spec.operators:
            raise _bad(
                f"The '{condition.operator}' operator is not allowed on '{condition.field}'."
            )
        _check_values(condition, spec.kind)


_KIND_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda value: isinstance(value, Quoted), "a quoted string"),
    "email": (lambda value: isinstance(value, Quoted), "a quoted string"),
    "datetime": (
        lambda value: type(value) is str and parse_iso(value) is not None,
        "an unquoted datetime such as 2026-01-01T00:00:00Z",
    ),
    "number": (
        lambda value: isinstance(value, int | float) and not isinstance(value, bool),
        "an unquoted number",
    ),
    "bool": (lambda value: isinstance(value, bool), "true or false, unquoted"),
}


def _check_values(condition: Condition, kind: str) -> None:
    """Klaviyo's quoting rules, per the field's kind: a 400 for a quoted datetime, say."""
    if condition.operator == "has":
        return
    wanted = condition.value
    if (condition.operator == "any") != isinstance(wanted, list):
        shape = "a list such as ['a','b']" if condition.operator == "any" else "a single value"
        raise _bad(f"'{condition.operator}' on '{condition.field}' takes {shape}.")
    accepts, described = _KIND_RULES[kind]
    for value in wanted if isinstance(wanted, list) else [wanted]:
        if value is not None and not accepts(value):
            raise _bad(f"Invalid value {value!r} for '{condition.field}': it must be {described}.")


def _never_raises(condition: Condition, kind: str) -> bool:
    """Whether checking this condition on any item is a plain True or False, never an error."""
    return kind in _TEXT_KINDS and condition.operator in ("equals", "any", "has", "contains")


def _narrowed(
    conditions: list[Condition],
    fields: Mapping[str, FilterField[R]],
    lookups: Mapping[str, Lookup[R]],
) -> Iterable[R] | None:
    """The candidates an index gives for the first equals/any condition on an indexed field.

    Items a scan would drop at an earlier condition never reach that one, and an earlier
    condition that could raise (a bad datetime, say) must still meet every item as in a scan, so
    narrowing stops at it. `null` among the values matches items lacking the field: no index.
    """
    for condition in conditions:
        kind = fields[condition.field].kind
        lookup = lookups.get(condition.field)
        if lookup is not None and condition.operator in _INDEXABLE_OPERATORS:
            wanted = condition.value if isinstance(condition.value, list) else [condition.value]
            if kind in _TEXT_KINDS and None not in wanted:
                return lookup([_coerce(value, kind) for value in wanted])
        if not _never_raises(condition, kind):
            return None
    return None


def apply_filter(
    items: Iterable[R],
    text: str | None,
    fields: Mapping[str, FilterField[R]],
    lookups: Mapping[str, Lookup[R]] | None = None,
) -> list[R]:
    """The items that satisfy every condition in `text` (all items when there is no filter).

    `lookups` lets an indexed field's equals/any condition start from the index's candidates
    instead of every item; the result is the same, in the same order.
    """
    if not text:
        return list(items)
    conditions = parse_filter(text)
    _check_fields(conditions, fields)
    candidates = _narrowed(conditions, fields, lookups) if lookups else None
    return [
        item
        for item in (items if candidates is None else candidates)
        if all(_matches(fields[c.field].getter(item), c, fields[c.field].kind) for c in conditions)
    ]

"""Events as JSON lines, byte for byte what the TS trainer writes to events.jsonl: protobuf-es's
`toJsonString(EventSchema, event)` with default options, i.e. proto3 JSON with camelCase names, fields in field-number
order, implicit zero values left out, enums by name, bytes as padded base64, and `JSON.stringify`'s compact layout
and number format. `MessageToJson(..., indent=None)` is close but not it: it writes `", "` and `": "`, `1.0` for 1, and
`1e-07` for 1e-7."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_INT64 = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOATS = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}
# JavaScript orders an object's integer-like keys ("array indices") first, ascending, then the rest as inserted.
_MAX_ARRAY_INDEX = 2**32 - 2


class _Object(list):
    """A JSON object as its (key, value) pairs, in output order."""


def to_json_line(message: Message) -> str:
    """One line of compact JSON (no newline), equal to protobuf-es's toJsonString of the same message."""
    return _object(_message_items(message))


def js_number(x: float) -> str:
    """`String(x)` in JavaScript (ECMA-262 Number::toString) for a finite double, from Python's shortest repr."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # x = 0.<digits> × 10^n
    n = len(whole) + int(exp or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-") + str(abs(e))


def _message_items(message: Message) -> _Object:
    items = _Object()
    # Field-number order, like protobuf-es's sortedFields. Both sides hold -0.0 as set; JavaScript writes it "0".
    for field, value in message.ListFields():
        items.append((field.json_name, _field_value(field, value)))
    return items


def _field_value(field: FieldDescriptor, value: Any) -> Any:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        keys = (str(k).lower() if isinstance(k, bool) else str(k) for k in value)
        # Sorted, as src/run/events-log.ts writes maps (upb's map order is not insertion order), then JS key order.
        entries = sorted(zip(keys, value.values(), strict=True), key=lambda e: e[0])
        return _js_key_order([(k, _scalar(value_field, v)) for k, v in entries])
    if field.is_repeated:
        return [_scalar(field, v) for v in value]
    return _scalar(field, value)


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return _message_items(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known else value
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.type in _INT64:
        return str(value)
    if field.type in _FLOATS:
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return float(value)
    return value


def _js_key_order(entries: list[tuple[str, Any]]) -> _Object:
    def is_index(key: str) -> bool:
        return key.isdigit() and str(int(key)) == key and int(key) <= _MAX_ARRAY_INDEX

    indices = sorted((e for e in entries if is_index(e[0])), key=lambda e: int(e[0]))
    return _Object(indices + [e for e in entries if not is_index(e[0])])


def _value(v: Any) -> str:
    if isinstance(v, _Object):
        return _object(v)
    if isinstance(v, list):
        return "[" + ",".join(_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return js_number(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False)


def _object(items: _Object) -> str:
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _value(v) for k, v in items) + "}"

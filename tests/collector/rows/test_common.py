"""Attribute values as strings, exactly as pdata's ``pcommon.Value.AsString`` (and Go's encoding/json) write them.

Every expected string below is what the Go code prints, written out by hand.
"""

from __future__ import annotations

import math

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from reference_rows import attributes

from aitrail.collector.rows.common import any_value_str, go_float


@pytest.mark.parametrize(
    "value, text",
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (3.0, "3"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (0.1, "0.1"),
        (1 / 3, "0.3333333333333333"),
        (123456.789, "123456.789"),
        (1e-6, "0.000001"),
        (2.5e-5, "0.000025"),
        (1e-4, "0.0001"),
        (1e16, "10000000000000000"),
        (1.2345678901234568e17, "123456789012345680"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (9.99e-7, "9.99e-7"),
        (1e-7, "1e-7"),
        (5e-324, "5e-324"),
        (-1e-10, "-1e-10"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_floats_print_as_go_json_does(value: float, text: str) -> None:
    assert go_float(value) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_go_json_cannot_print_nan_or_infinity(value: float) -> None:
    with pytest.raises(ValueError):
        go_float(value)


def av(**kwargs: object) -> AnyValue:
    return AnyValue(**kwargs)


def array(*values: AnyValue) -> AnyValue:
    return AnyValue(array_value=ArrayValue(values=list(values)))


def kvlist(**values: AnyValue) -> AnyValue:
    return AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in values.items()]))


@pytest.mark.parametrize(
    "value, text",
    [
        (av(), ""),
        (av(string_value=""), ""),
        (av(string_value="plain <text> & \"quotes\""), 'plain <text> & "quotes"'),  # only JSON escapes
        (av(bool_value=True), "true"),
        (av(bool_value=False), "false"),
        (av(int_value=0), "0"),
        (av(int_value=-9223372036854775808), "-9223372036854775808"),
        (av(double_value=2.0), "2"),
        (av(double_value=0.125), "0.125"),
        (av(double_value=math.nan), "json: unsupported value: NaN"),
        (av(double_value=math.inf), "json: unsupported value: +Inf"),
        (av(double_value=-math.inf), "json: unsupported value: -Inf"),
        (av(bytes_value=b"\x00\x01\xfe\xff"), "AAH+/w=="),
        (av(bytes_value=b""), ""),
        (array(), "[]"),
        (array(av(int_value=1), av(int_value=-2)), "[1,-2]"),
        (array(av(string_value="a"), av(bool_value=True), av(double_value=1.0), av()), '["a",true,1,null]'),
        (array(av(bytes_value=b"hi"), av(bytes_value=b"")), '["aGk=",null]'),
        (array(av(double_value=math.nan)), ""),  # json.Marshal fails, AsString gives ""
        (kvlist(), "{}"),
        (kvlist(b=av(string_value="2"), a=av(int_value=1)), '{"a":1,"b":"2"}'),  # keys sorted
        (
            kvlist(z=array(av(int_value=1), kvlist(y=av(bool_value=False))), a=kvlist()),
            '{"a":{},"z":[1,{"y":false}]}',
        ),
        (
            array(av(string_value='<a href="x">&\\\n\t\r\b\f\x01\x7f\u2028\u2029é☃')),
            '["\\u003ca href=\\"x\\"\\u003e\\u0026\\\\\\n\\t\\r\\b\\f\\u0001\x7f\\u2028\\u2029é☃"]',
        ),
        (array(av(double_value=1e21), av(double_value=1e-7), av(double_value=-0.0)), "[1e+21,1e-7,-0]"),
    ],
)
def test_any_values_as_strings(value: AnyValue, text: str) -> None:
    assert any_value_str(value) == text


def test_duplicate_keys_keep_the_last_value() -> None:
    kvs = [
        KeyValue(key="a", value=av(string_value="first")),
        KeyValue(key="b", value=av(int_value=2)),
        KeyValue(key="a", value=av(string_value="last")),
    ]
    assert attributes(kvs) == {"a": "last", "b": "2"}
    dup = kvlist()
    dup.kvlist_value.values.extend(kvs)
    assert any_value_str(dup) == '{"a":"last","b":2}'

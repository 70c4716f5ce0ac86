"""Inference requests built to hurt: nesting, values outside their declared datatype, booleans
among numbers, sizes beyond the limits. Each is a 4xx in the protocol's `{"error": "..."}` shape
that says what is wrong (and which setting, for a limit), never a 500, never a prediction.

The route tests go through the whole stack; the property tests call `protocol.parse_infer` on its
own (with a stand-in for the model version), where Hypothesis can afford thousands of examples.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mlservice import protocol

INFER = "/v2/models/iris/infer"
ROWS_ONE = [[5.1, 3.5, 1.4, 0.2]]
OTHERS = [3.5, 1.4, 0.2]  # the rest of a row after the value under test


def tensor(data, *, datatype="FP64", shape=None, **extra) -> dict:
    rows = data if data and isinstance(data[0], list) else [data]
    return {"name": "input-0", "shape": shape or [len(rows), 4], "datatype": datatype, "data": data, **extra}


def request(data, *, datatype="FP64", shape=None, **extra) -> str:
    return json.dumps({"inputs": [tensor(data, datatype=datatype, shape=shape)], **extra})


def post(api, payload, url=INFER):
    return api.post(url, payload, content_type="application/json")


def refused(response, status=400) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["error"]
    return response.json()["error"]


# A stand-in for the registered iris version: what parse_infer reads of a ModelVersion.
IRIS = SimpleNamespace(
    n_features=4,
    dtype="float64",
    outputs=["predict", "predict_proba"],
    output_schema=[
        {"name": "predict", "datatype": "INT64", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]},
    ],
)


def parse(payload: str | bytes, **limits):
    body = payload.encode() if isinstance(payload, str) else payload
    return protocol.parse_infer(body, IRIS, allow_nan=False, limits=protocol.Limits(**limits))


# --- nesting ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000,  # 100 KB of opening brackets: json.loads raised RecursionError on it
        b"[" * 100_000 + b"]" * 100_000,  # balanced, and beyond orjson's own 1,024
        b'{"inputs": [{"data": ' + b"[" * 5_000 + b"NaN" + b"]" * 5_000 + b"}]}",  # NaN: the json.loads fallback
        b'{"inputs": [], "parameters": ' + b'{"a": ' * 70 + b"1" + b"}" * 70 + b"}",
    ],
    ids=["open-brackets", "balanced", "nan-fallback", "deep-parameters"],
)
def test_deep_nesting_is_a_400_naming_the_limit(api, served_iris, payload):
    error = refused(post(api, payload))

    assert "more than 64 levels deep" in error and "API_MAX_JSON_DEPTH" in error


@pytest.mark.django_db
def test_the_limit_is_the_setting_and_brackets_in_strings_do_not_count(api, served_iris, settings):
    def nested(levels: int) -> str:
        """A request whose parameters hold `levels` nested lists: 2 + `levels` deep in all."""
        lists = "[" * levels + "1" + "]" * levels
        return json.dumps({"id": "[{" * 100, "inputs": [tensor(ROWS_ONE)]})[:-1] + f', "parameters": {{"x": {lists}}}}}'

    settings.API_MAX_JSON_DEPTH = 10
    assert post(api, nested(8)).status_code == 200
    assert "more than 10 levels deep (the limit, API_MAX_JSON_DEPTH)" in refused(post(api, nested(9)))


# --- integer datatypes: the edges accepted, one past refused ---------------------------------------

INTEGER_TYPES = sorted(protocol.INTEGER_RANGES)


@pytest.mark.django_db
@pytest.mark.parametrize("datatype", INTEGER_TYPES)
def test_integer_datatypes_take_their_range_and_nothing_beyond(api, served_iris, datatype):
    low, high = protocol.INTEGER_RANGES[datatype]

    for edge in (low, high):
        response = post(api, request([[edge, 3, 1, 0]], datatype=datatype))
        assert response.status_code == 200, (edge, response.content)
    for beyond in (low - 1, high + 1):
        error = refused(post(api, request([[beyond, 3, 1, 0]], datatype=datatype)))
        assert f"{datatype} takes integers from {low} to {high}" in error and "(row 0)" in error


@pytest.mark.django_db
@pytest.mark.parametrize("value", [1.5, 1.0, 1e3, float(2**70)])
def test_integer_datatypes_take_no_decimals(api, served_iris, value):
    error = refused(post(api, request([[3, 3, 1, 0], [3, value, 1, 0]], datatype="INT32")))

    assert f"holds {value!r} (row 1)" in error and "INT32 takes integers" in error


@pytest.mark.django_db
def test_uint64_beyond_int64_among_small_values_is_taken(api, served_iris):
    """numpy turns [2**64 - 1, 3] into floats; the values are integers in UINT64's range all the same."""
    assert post(api, request([[2**64 - 1, 3, 1, 0]], datatype="UINT64")).status_code == 200
    assert "UINT64 takes integers" in refused(post(api, request([[2**64 - 1, -1, 1, 0]], datatype="UINT64")))


@hypothesis_settings(max_examples=400, deadline=None)
@given(datatype=st.sampled_from(INTEGER_TYPES), value=st.integers(min_value=-(2**66), max_value=2**66))
def test_any_integer_is_taken_exactly_when_its_datatype_holds_it(datatype, value):
    low, high = protocol.INTEGER_RANGES[datatype]
    payload = request([value, 3, 1, 0], datatype=datatype, shape=[1, 4])

    if low <= value <= high:
        features = parse(payload).features
        assert features[0, 0] == np.float64(value)
    else:
        with pytest.raises(protocol.BadInput, match=f"{datatype} takes integers from {low} to {high}"):
            parse(payload)


# --- float datatypes ------------------------------------------------------------------------------

# The largest value of each type, and the smallest one that rounds to infinity in it (max + half an ulp).
FLOAT_EDGES = {
    "FP16": (65504.0, 65520.0),
    "FP32": (float(np.finfo(np.float32).max), 2.0**128 - 2.0**103),
}


@pytest.mark.django_db
@pytest.mark.parametrize("datatype", sorted(FLOAT_EDGES))
def test_float_datatypes_take_their_range_and_nothing_beyond(api, served_iris, datatype):
    largest, beyond = FLOAT_EDGES[datatype]

    for edge in (largest, -largest):
        assert post(api, request([[edge, *OTHERS]], datatype=datatype)).status_code == 200, edge
    for value in (beyond, -beyond, 1e300):
        error = refused(post(api, request([[1.0, *OTHERS], [value, *OTHERS]], datatype=datatype)))
        assert f"holds {value!r} (row 1), beyond {datatype}" in error
    # Integers are numbers of the type too, and the same range applies to them.
    assert post(api, request([[int(largest), 3, 1, 0]], datatype=datatype)).status_code == 200
    assert f"beyond {datatype}" in refused(post(api, request([[int(beyond), 3, 1, 0]], datatype=datatype)))


@pytest.mark.django_db
def test_fp32_max_as_float32_prints_it_is_taken(api, served_iris):
    """`3.4028235e+38` is how numpy (and orjson) write FP32's largest value: slightly above it as a
    double, but it rounds to it, so it is in range."""
    payload = request([[1.0, *OTHERS]], datatype="FP32").replace("1.0,", "3.4028235e+38,", 1)

    assert post(api, payload).status_code == 200


@pytest.mark.django_db
def test_fp64_takes_the_largest_double_and_refuses_infinity(api, served_iris):
    largest = float(np.finfo(np.float64).max)

    # Parsed only: what iris's scaler makes of 1.8e308 is the model's business (an overflow).
    assert parse(request([[largest, *OTHERS]])).features[0, 0] == largest
    assert "infinite value" in refused(post(api, request([[1.0, *OTHERS]]).replace("1.0,", "1e309,", 1)))


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    datatype=st.sampled_from(sorted(FLOAT_EDGES)),
    value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e39, max_value=1e39),
)
def test_any_float_is_taken_exactly_when_it_rounds_to_a_value_of_its_datatype(datatype, value):
    kind = protocol.FLOAT_TYPES[datatype]
    with np.errstate(over="ignore"):
        representable = bool(np.isfinite(kind(value)))
    payload = request([value, *OTHERS], datatype=datatype, shape=[1, 4])

    if representable:
        assert parse(payload).features[0, 0] == value
    else:
        with pytest.raises(protocol.BadInput, match=f"beyond {datatype}"):
            parse(payload)


# --- booleans, text ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, datatype",
    [
        ([[1.5, True, 1.4, 0.2]], "FP64"),
        ([[1, True, 1, 0]], "INT64"),
        ([[5.1, 3.5, 1.4, 0.2], [False, 3.5, 1.4, 0.2]], "FP32"),
        ([[True, False, True, False]], "UINT8"),
    ],
    ids=["float-and-true", "int-and-true", "false-in-row-1", "all-booleans"],
)
def test_booleans_among_numbers_are_refused(api, served_iris, data, datatype):
    error = refused(post(api, request(data, datatype=datatype)))

    assert "true/false" in error and datatype in error


@pytest.mark.django_db
def test_bool_tensors_take_booleans_only(api, served_iris):
    assert post(api, request([[True, False, True, False]], datatype="BOOL")).status_code == 200
    for data in ([[1, 0, 1, 0]], [[True, 0, 1, 0]], [[0.5, True, 1, 0]]):
        assert "BOOL takes true and false only" in refused(post(api, request(data, datatype="BOOL")))


@pytest.mark.django_db
def test_true_in_a_string_is_no_boolean(api, served_iris):
    """The quick look for booleans reads the bytes; `true` in an id costs a closer look, not a refusal."""
    assert post(api, request(ROWS_ONE, id="true or false")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("datatype", ["FP64", "INT8", "BOOL"])
@pytest.mark.parametrize(
    "data", [[["1", 2, 3, 4]], [[1, None, 3, 4]], [[1, {"a": 1}, 3, 4]]], ids=["text", "null", "object"]
)
def test_text_null_and_objects_in_a_tensor_are_refused(api, served_iris, datatype, data):
    refused(post(api, request(data, datatype=datatype)))


# --- sizes ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_more_input_values_than_the_limit_is_a_413_naming_it(api, served_iris, settings):
    settings.MLSERVICE_MAX_INPUT_VALUES = 8

    assert post(api, request(ROWS_ONE * 2)).status_code == 200
    error = refused(post(api, request(ROWS_ONE * 3)), 413)
    assert "12 values" in error and "the limit is 8 (MLSERVICE_MAX_INPUT_VALUES)" in error


@pytest.mark.django_db
def test_a_huge_shape_is_refused_before_any_array_is_built(api, served_iris):
    error = refused(post(api, request(ROWS_ONE, shape=[10**12, 4])), 413)

    assert "MLSERVICE_MAX_INPUT_VALUES" in error


@pytest.mark.django_db
def test_an_answer_larger_than_the_limit_is_a_413_naming_it(api, served_iris, settings):
    settings.MLSERVICE_MAX_OUTPUT_VALUES = 6
    both = [{"name": "predict"}, {"name": "predict_proba"}]

    assert post(api, request(ROWS_ONE * 6)).status_code == 200  # predict: 6 values
    assert post(api, request(ROWS_ONE, outputs=both)).status_code == 200  # 1 + 3
    error = refused(post(api, request(ROWS_ONE * 2, outputs=both)), 413)
    assert "8 values" in error and "the limit is 6 (MLSERVICE_MAX_OUTPUT_VALUES)" in error


# --- the fast path stays fast --------------------------------------------------------------------------


def test_an_ordinary_request_is_never_walked_value_by_value(monkeypatch):
    """No `true` or `false` in the body: the per-value look for booleans is not even called."""

    def walked(data):
        raise AssertionError("looked at every value")

    monkeypatch.setattr(protocol, "_holds_booleans", walked)
    parse(request(ROWS_ONE * 1000, datatype="FP32"))
    parse(request([[5, 3, 1, 0]] * 1000, datatype="INT16"))

"""The Open Inference Protocol v2's request and response bodies, checked and built with numpy.

`parse_infer` turns a request body into one float matrix (no pandas, no per-value Python loop)
and the list of outputs asked for, or raises `BadInput` saying what is wrong (`TooLarge`, a 413,
for a request over `Limits`); `infer_response` builds the answer. Nothing here touches Django, so
it is tested and benchmarked on its own.

A tensor's datatype means what it says: INT8 holds integers from -128 to 127, UINT64 no negative
number, FP16 nothing beyond 65504, BOOL true and false only, and true or false is no number. The
checks are numpy's, on the array numpy built: a min and a max of it. Python looks at values one
by one only where numpy has erased what it must see: for true/false among numbers (numpy reads
true as 1), and then only when the body has a `true` or `false` in it at all; and on the way to
refusing integers declared with decimals, or to accepting UINT64 values beyond INT64.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from core import json_body

from .models import ModelVersion

INPUT_NAME = "input-0"
PLATFORM = "scikit-learn"
# The datatypes a request may declare; the data is cast to the model's dtype afterwards.
INTEGER_RANGES = {
    name: (int(np.iinfo(name.lower()).min), int(np.iinfo(name.lower()).max))
    for name in ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
}
FLOAT_TYPES = {"FP16": np.float16, "FP32": np.float32, "FP64": np.float64}
NUMERIC_DATATYPES = {*INTEGER_RANGES, *FLOAT_TYPES}
INPUT_DATATYPES = {*NUMERIC_DATATYPES, "BOOL"}
_REQUEST_KEYS = {"id", "parameters", "inputs", "outputs"}
_INPUT_KEYS = {"name", "shape", "datatype", "data", "parameters"}
_OUTPUT_KEYS = {"name", "parameters"}


class BadInput(ValueError):
    """The request cannot be answered as sent (a 400); the message says what is wrong."""

    status = 400


class TooLarge(BadInput):
    """The request asks for more than `Limits` allow (a 413); the message names the setting."""

    status = 413


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (the views take them from settings of the same names)."""

    json_depth: int = 64  # API_MAX_JSON_DEPTH
    input_values: int = 1_000_000  # MLSERVICE_MAX_INPUT_VALUES
    output_values: int = 1_000_000  # MLSERVICE_MAX_OUTPUT_VALUES


@dataclass(frozen=True)
class InferRequest:
    id: str | None
    features: np.ndarray  # rows x n_features, in the model's dtype
    outputs: tuple[str, ...]


def datatype(dtype: str) -> str:
    """ "float64" -> "FP64", the protocol's name for a numpy dtype."""
    kind = np.dtype(dtype)
    return {"f": "FP", "i": "INT", "u": "UINT"}[kind.kind] + str(kind.itemsize * 8)


def load_json(body: bytes, *, max_depth: int = Limits.json_depth) -> Any:
    """orjson for speed; the standard parser only to tell NaN and Infinity (not JSON, but sent by
    Python clients) from a broken body, so that they get the precise error further on. The nesting
    is measured first, so that neither parser ever sees a body nested deeper than `max_depth`."""
    try:
        return json_body.loads(body, max_depth=max_depth, setting="API_MAX_JSON_DEPTH")
    except json_body.TooDeep as exc:
        raise BadInput(str(exc)) from None
    except orjson.JSONDecodeError as strict:
        try:
            return json.loads(body.decode())
        except ValueError:  # UnicodeDecodeError is one
            raise BadInput(f"The body is not valid JSON: {strict}.") from None


def _unknown(keys: Any, allowed: set[str], where: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise BadInput(f"Unknown field(s) in {where}: {', '.join(extra)} (allowed: {', '.join(sorted(allowed))}).")


def parse_infer(body: bytes, version: ModelVersion, *, allow_nan: bool, limits: Limits = Limits()) -> InferRequest:
    payload = load_json(body, max_depth=limits.json_depth)
    if not isinstance(payload, dict):
        raise BadInput("The body must be a JSON object with an `inputs` list.")
    _unknown(payload, _REQUEST_KEYS, "the request")
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadInput("`id` must be a string.")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadInput("`inputs` must be a list with one tensor.")
    if len(inputs) != 1:
        raise BadInput(f"This model takes one input tensor ({INPUT_NAME!r}); the request has {len(inputs)}.")
    outputs = _outputs(payload.get("outputs"), version)
    # A `true` or `false` anywhere (even in a string) means the data must be looked at for booleans.
    maybe_booleans = b"true" in body or b"false" in body
    features = _features(inputs[0], version, outputs, allow_nan=allow_nan, limits=limits, maybe_booleans=maybe_booleans)
    return InferRequest(request_id, features, outputs)


def _features(
    tensor: Any,
    version: ModelVersion,
    outputs: tuple[str, ...],
    *,
    allow_nan: bool,
    limits: Limits,
    maybe_booleans: bool,
) -> np.ndarray:
    """The input tensor as the model's features: its header checked, then its data."""
    declared, shape = _tensor_header(tensor, version)
    rows, width = shape
    _within_limits(rows, width, version, outputs, limits)
    array = _tensor_array(tensor["data"], declared, maybe_booleans=maybe_booleans)
    if array.size != rows * width:
        raise BadInput(f"The shape {shape} needs {rows * width} values; `data` has {array.size}.")
    if declared in INTEGER_RANGES:
        array = _integers(array, tensor["data"], declared, width)
    elif declared in FLOAT_RANGES:
        _representable(array, declared, width)
    features = array.reshape(shape).astype(version.dtype, copy=False)
    if features.dtype.kind == "f":
        _check_finite(features, allow_nan=allow_nan)
    return features


def _tensor_header(tensor: Any, version: ModelVersion) -> tuple[str, list[int]]:
    """The input's name, datatype and shape checked against the model: (datatype, [rows, width])."""
    if not isinstance(tensor, dict):
        raise BadInput("Each input must be an object with name, shape, datatype and data.")
    _unknown(tensor, _INPUT_KEYS, "the input")
    missing = [key for key in ("name", "shape", "datatype", "data") if key not in tensor]
    if missing:
        raise BadInput(f"The input lacks: {', '.join(missing)}.")
    if tensor["name"] != INPUT_NAME:
        raise BadInput(f"The input is named {tensor['name']!r}; this model's input is {INPUT_NAME!r}.")
    declared = tensor["datatype"]
    if not isinstance(declared, str) or declared not in INPUT_DATATYPES:
        raise BadInput(
            f"The datatype {_shown(declared)} is not accepted: the model takes numbers "
            f"({datatype(version.dtype)}; any of {', '.join(sorted(INPUT_DATATYPES))})."
        )
    shape = tensor["shape"]
    width = version.n_features
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise BadInput(f"The shape must be [rows, {width}] with positive integers; it is {_shown(shape)}.")
    if shape[1] != width:
        raise BadInput(f"This model takes {width} features per row; the shape says {shape[1]}.")
    return declared, shape


def _tensor_array(data: Any, declared: str, *, maybe_booleans: bool) -> np.ndarray:
    """`data` as a regular numeric array whose kind matches the declared datatype (BOOL or numbers)."""
    if not isinstance(data, list):
        raise BadInput("`data` must be a list of numbers (flat or nested by row).")
    try:
        array = np.asarray(data)
    except (ValueError, TypeError):
        raise BadInput("`data` is not a regular array: its rows have different lengths.") from None
    if array.dtype.kind not in "iufb":
        expected = "true and false only" if declared == "BOOL" else "numbers only"
        raise BadInput(f"`data` must hold {expected} (it holds text, null or nested objects).")
    if declared == "BOOL":
        if array.dtype.kind != "b":
            raise BadInput("The datatype says BOOL but `data` holds numbers: BOOL takes true and false only.")
    elif array.dtype.kind == "b" or (maybe_booleans and _holds_booleans(data)):
        raise BadInput(f"`data` holds true/false values; {declared} takes numbers (BOOL is for true/false only).")
    return array


def _shown(value: Any) -> str:
    """A client's value in a message, never more than a line of it."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _within_limits(rows: int, width: int, version: ModelVersion, outputs: tuple[str, ...], limits: Limits) -> None:
    """TooLarge for a shape whose input or answer holds more values than the limits, before any
    array is built and before the model runs."""
    values = rows * width
    if values > limits.input_values:
        raise TooLarge(
            f"The input holds {values:,} values ({rows:,} rows x {width}); the limit is "
            f"{limits.input_values:,} (MLSERVICE_MAX_INPUT_VALUES): send fewer rows per request."
        )
    answer = rows * sum(_output_width(version, name) for name in outputs)
    if answer > limits.output_values:
        raise TooLarge(
            f"The answer would hold {answer:,} values ({rows:,} rows of {', '.join(outputs)}); the limit is "
            f"{limits.output_values:,} (MLSERVICE_MAX_OUTPUT_VALUES): send fewer rows or ask for fewer outputs."
        )


def _output_width(version: ModelVersion, name: str) -> int:
    """Values per row of an output: 1 for predict, one per class for predict_proba."""
    for output in version.output_schema:
        if output.get("name") == name:
            return math.prod(max(int(n), 1) for n in output.get("shape", [-1])[1:])
    return 1


def _holds_booleans(data: list) -> bool:
    """Whether true or false is among the values. numpy reads [1.5, true] as [1.5, 1.0], so this
    looks at the Python values (a C-level pass over them: `map(type, ...)`); only called when the
    body has a `true` or `false` somewhere."""
    return bool in set(map(type, np.asarray(data, dtype=object).ravel().tolist()))


def _integers(array: np.ndarray, data: list, declared: str, width: int) -> np.ndarray:
    """The array when every value is an integer of `declared`'s range, else BadInput naming one
    that is not (and its row)."""
    low, high = INTEGER_RANGES[declared]
    kind = f"{declared} takes integers from {low} to {high}"
    if array.dtype == np.dtype(declared.lower()):  # numpy made int64 (uint64) of them: INT64 (UINT64) holds them
        return array
    if array.dtype.kind in "iu":
        smallest, largest = int(array.min()), int(array.max())
        if low <= smallest and largest <= high:
            return array
        wrong = smallest if smallest < low else largest
        row = int(np.argmax(array.ravel() == wrong)) // width
        raise BadInput(f"`data` holds {wrong} (row {row}): {kind}.")
    # Floats: decimals (1.5, 1.0, 1e3), integers beyond 64 bits (which orjson reads as floats), or
    # integers beyond INT64 among others, which numpy keeps as floats: only UINT64 can take those.
    values = np.asarray(data, dtype=object).ravel().tolist()
    for index, value in enumerate(values):
        if type(value) is not int or not low <= value <= high:
            raise BadInput(f"`data` holds {value!r} (row {index // width}): {kind}, written without a decimal point.")
    return np.array(values, dtype=np.uint64)


def _overflow(kind: type[np.floating]) -> float:
    """The smallest magnitude that rounds to infinity in `kind`: its largest value plus half an ulp."""
    info = np.finfo(kind)
    return float(info.max) + 2.0 ** (info.maxexp - info.nmant - 2)


# Per float datatype with a narrower range than a double: its largest value, and where it overflows.
FLOAT_RANGES = {name: (float(np.finfo(kind).max), _overflow(kind)) for name, kind in FLOAT_TYPES.items()}
del FLOAT_RANGES["FP64"]  # a JSON number beyond a double is infinity already: refused as infinite


def _representable(array: np.ndarray, declared: str, width: int) -> None:
    """BadInput for a finite value that `declared` cannot hold: one that rounds to infinity in it
    (so 3.4028235e38, FP32's largest value as FP32 prints it, is in range). A min and a max first:
    NaN and infinity make them fail too, and are then let through to the finite check."""
    largest, overflow = FLOAT_RANGES[declared]
    if -overflow < array.min() and array.max() < overflow:
        return
    beyond = ((array >= overflow) | (array <= -overflow)) & np.isfinite(array)
    if beyond.any():
        index = int(np.argmax(beyond.ravel()))
        raise BadInput(
            f"`data` holds {array.ravel()[index].item()!r} (row {index // width}), beyond {declared}: "
            f"its largest value is {largest:g}."
        )


def _check_finite(features: np.ndarray, *, allow_nan: bool) -> None:
    finite = np.isfinite(features)
    if finite.all():
        return
    infinite = np.isinf(features)
    if infinite.any():
        row = int(np.argwhere(infinite)[0][0])
        raise BadInput(f"`data` holds an infinite value (row {row}); the model takes finite numbers.")
    if not allow_nan:
        row = int(np.argwhere(~finite)[0][0])
        raise BadInput(f"`data` holds NaN (row {row}) and this model cannot take missing values.")


def _outputs(requested: Any, version: ModelVersion) -> tuple[str, ...]:
    if requested is None:
        return ("predict",)
    if not isinstance(requested, list) or not requested:
        raise BadInput('`outputs` must be a list like [{"name": "predict"}].')
    names = []
    for output in requested:
        if not isinstance(output, dict) or not isinstance(output.get("name"), str):
            raise BadInput('Each output must be an object with a name, like {"name": "predict"}.')
        _unknown(output, _OUTPUT_KEYS, "an output")
        if output["name"] not in version.outputs:
            raise BadInput(f"Unknown output {output['name']!r}; this model has: {', '.join(version.outputs)}.")
        if output["name"] not in names:
            names.append(output["name"])
    return tuple(names)


def output_tensor(name: str, values: np.ndarray) -> dict[str, Any]:
    values = np.asarray(values)
    if values.dtype.kind in "iufb":
        kind = "BOOL" if values.dtype.kind == "b" else datatype(values.dtype.name)
        data: Any = values.ravel()  # orjson writes numpy arrays natively
    else:  # text labels
        kind, data = "BYTES", [str(v) for v in values.ravel()]
    return {"name": name, "datatype": kind, "shape": list(values.shape), "data": data}


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def metadata(name: str, versions: list[str], version: ModelVersion) -> dict[str, Any]:
    return {
        "name": name,
        "versions": versions,
        "platform": PLATFORM,
        "inputs": [{"name": INPUT_NAME, "datatype": datatype(version.dtype), "shape": [-1, version.n_features]}],
        "outputs": version.output_schema,
    }

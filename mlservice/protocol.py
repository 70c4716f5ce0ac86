"""The Open Inference Protocol v2's request and response bodies, checked and built with numpy.

`parse_infer` turns a request body into one float matrix (no pandas, no per-value Python loop)
and the list of outputs asked for, or raises `BadInput` saying what is wrong; `infer_response`
builds the answer. Nothing here touches Django, so it is tested and benchmarked on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from .models import ModelVersion

INPUT_NAME = "input-0"
PLATFORM = "scikit-learn"
# The numeric datatypes a request may declare; the data is cast to the model's dtype afterwards.
NUMERIC_DATATYPES = {
    "FP16",
    "FP32",
    "FP64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
}
_REQUEST_KEYS = {"id", "parameters", "inputs", "outputs"}
_INPUT_KEYS = {"name", "shape", "datatype", "data", "parameters"}
_OUTPUT_KEYS = {"name", "parameters"}


class BadInput(ValueError):
    """The request cannot be answered as sent (a 400); the message says what is wrong."""


@dataclass(frozen=True)
class InferRequest:
    id: str | None
    features: np.ndarray  # rows x n_features, in the model's dtype
    outputs: tuple[str, ...]


def datatype(dtype: str) -> str:
    """ "float64" -> "FP64", the protocol's name for a numpy dtype."""
    kind = np.dtype(dtype)
    return {"f": "FP", "i": "INT", "u": "UINT"}[kind.kind] + str(kind.itemsize * 8)


def load_json(body: bytes) -> Any:
    """orjson for speed; the standard parser only to tell NaN and Infinity (not JSON, but sent by
    Python clients) from a broken body, so that they get the precise error further on."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as strict:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadInput(f"The body is not valid JSON: {strict}.") from None


def _unknown(keys: Any, allowed: set[str], where: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise BadInput(f"Unknown field(s) in {where}: {', '.join(extra)} (allowed: {', '.join(sorted(allowed))}).")


def parse_infer(body: bytes, version: ModelVersion, *, allow_nan: bool) -> InferRequest:
    payload = load_json(body)
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
    features = _features(inputs[0], version, allow_nan=allow_nan)
    return InferRequest(request_id, features, _outputs(payload.get("outputs"), version))


def _features(tensor: Any, version: ModelVersion, *, allow_nan: bool) -> np.ndarray:
    if not isinstance(tensor, dict):
        raise BadInput("Each input must be an object with name, shape, datatype and data.")
    _unknown(tensor, _INPUT_KEYS, "the input")
    missing = [key for key in ("name", "shape", "datatype", "data") if key not in tensor]
    if missing:
        raise BadInput(f"The input lacks: {', '.join(missing)}.")
    if tensor["name"] != INPUT_NAME:
        raise BadInput(f"The input is named {tensor['name']!r}; this model's input is {INPUT_NAME!r}.")
    declared = tensor["datatype"]
    if not isinstance(declared, str) or declared not in NUMERIC_DATATYPES:
        raise BadInput(
            f"The datatype {declared!r} is not accepted: the model takes numbers "
            f"({datatype(version.dtype)}; any of {', '.join(sorted(NUMERIC_DATATYPES))})."
        )
    shape = tensor["shape"]
    width = version.n_features
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise BadInput(f"The shape must be [rows, {width}] with positive integers; it is {shape!r}.")
    if shape[1] != width:
        raise BadInput(f"This model takes {width} features per row; the shape says {shape[1]}.")

    data = tensor["data"]
    if not isinstance(data, list):
        raise BadInput("`data` must be a list of numbers (flat or nested by row).")
    try:
        array = np.asarray(data)
    except (ValueError, TypeError):
        raise BadInput("`data` is not a regular array: its rows have different lengths.") from None
    if array.dtype.kind not in "iuf":
        if array.dtype.kind == "b" or array.dtype == object and any(isinstance(v, bool) for v in array.flat):
            raise BadInput("`data` holds true/false values; the model takes numbers.")
        raise BadInput("`data` must hold numbers only (it holds text, null or nested objects).")
    if declared.startswith(("INT", "UINT")) and array.dtype.kind == "f":
        raise BadInput(f"The datatype says {declared} but `data` holds fractional numbers.")
    if array.size != shape[0] * shape[1]:
        raise BadInput(f"The shape {shape} needs {shape[0] * shape[1]} values; `data` has {array.size}.")
    features = array.reshape(shape).astype(version.dtype, copy=False)
    if features.dtype.kind == "f":
        _check_finite(features, allow_nan=allow_nan)
    return features


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

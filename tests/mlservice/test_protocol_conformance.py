"""Every inference route against the Open Inference Protocol v2 REST schemas.

The schemas are the protocol's (kserve/open-inference-protocol, "HTTP/REST" section), written as
JSON Schema: required fields, their types, the tensor datatypes, and for tensors with data that the
data holds as many values as the shape says. Our additions (a model's `parameters`) are allowed,
as the protocol allows parameters and unknown fields are not forbidden.
"""

from __future__ import annotations

import json
import math

import pytest
from jsonschema import Draft202012Validator

pytestmark = pytest.mark.django_db

DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"]
DATATYPES += ["FP16", "FP32", "FP64", "BYTES"]
SHAPE = {"type": "array", "items": {"type": "integer"}}
METADATA_TENSOR = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {"name": {"type": "string"}, "datatype": {"enum": DATATYPES}, "shape": SHAPE},
}
PARAMETERS = {"type": "object"}
SCHEMAS = {
    "server_metadata": {
        "type": "object",
        "required": ["name", "version", "extensions"],
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "extensions": {"type": "array", "items": {"type": "string"}},
        },
    },
    "model_metadata": {
        "type": "object",
        "required": ["name", "platform", "inputs", "outputs"],
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": METADATA_TENSOR},
            "outputs": {"type": "array", "items": METADATA_TENSOR},
            "parameters": PARAMETERS,
        },
    },
    "inference_response": {
        "type": "object",
        "required": ["model_name", "outputs"],
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "parameters": PARAMETERS,
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "shape", "datatype", "data"],
                    "properties": {
                        "name": {"type": "string"},
                        "shape": SHAPE,
                        "datatype": {"enum": DATATYPES},
                        "parameters": PARAMETERS,
                        "data": {"type": "array"},
                    },
                },
            },
        },
    },
    "error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
        "additionalProperties": False,
    },
}


def conforms(payload, schema: str) -> None:
    errors = sorted(Draft202012Validator(SCHEMAS[schema]).iter_errors(payload), key=str)
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    if schema == "inference_response":
        for output in payload["outputs"]:
            assert len(output["data"]) == math.prod(output["shape"]), output["name"]


REQUEST = {
    "id": "42",
    "inputs": [
        {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}
    ],
    "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
}


def test_server_routes(client):
    response = client.get("/v2")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    conforms(response.json(), "server_metadata")
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200
    assert client.head("/v2/health/ready").status_code == 200  # load balancers often probe with HEAD


@pytest.mark.parametrize("url", ["/v2/models/iris", "/v2/models/iris/versions/1"])
def test_model_metadata_routes(api, served_iris, url):
    response = api.get(url)
    assert response.status_code == 200
    conforms(response.json(), "model_metadata")


@pytest.mark.parametrize("url", ["/v2/models/iris/ready", "/v2/models/iris/versions/1/ready"])
def test_model_ready_routes(api, served_iris, url):
    assert api.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/v2/models/iris/infer", "/v2/models/iris/versions/1/infer"])
def test_infer_routes(api, served_iris, url):
    response = api.post(url, json.dumps(REQUEST), content_type="application/json")

    assert response.status_code == 200
    answer = response.json()
    conforms(answer, "inference_response")
    assert answer["id"] == "42" and [o["name"] for o in answer["outputs"]] == ["predict", "predict_proba"]
    assert answer["outputs"][0]["data"] == [0, 2]


def test_the_metadata_describes_what_infer_accepts_and_returns(api, served_iris):
    """A client built from the metadata alone gets an answer shaped as the metadata said."""
    metadata = api.get("/v2/models/iris").json()
    (tensor,) = metadata["inputs"]
    width = tensor["shape"][1]
    request = {
        "inputs": [
            {"name": tensor["name"], "shape": [3, width], "datatype": tensor["datatype"], "data": [0.5] * 3 * width}
        ],
        "outputs": [{"name": output["name"]} for output in metadata["outputs"]],
    }

    answer = api.post("/v2/models/iris/infer", json.dumps(request), content_type="application/json").json()

    for declared, returned in zip(metadata["outputs"], answer["outputs"], strict=True):
        assert returned["name"] == declared["name"] and returned["datatype"] == declared["datatype"]
        assert [3 if n == -1 else n for n in declared["shape"]] == returned["shape"]


@pytest.mark.parametrize(
    "method, url, payload",
    [
        ("get", "/v2/models/absent", None),
        ("get", "/v2/models/absent/ready", None),
        ("post", "/v2/models/absent/infer", REQUEST),
        ("post", "/v2/models/iris/infer", {"inputs": "nope"}),
        ("get", "/v2/models/iris/infer", None),
    ],
)
def test_errors_are_the_protocols_error_object(api, served_iris, method, url, payload):
    if payload is None:
        response = getattr(api, method)(url)
    else:
        response = api.post(url, json.dumps(payload), content_type="application/json")

    assert 400 <= response.status_code < 500
    conforms(response.json(), "error")

"""The Open Inference Protocol routes: answers, every kind of bad input, auth and the throttle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from mlservice import registry

pytestmark = pytest.mark.django_db

INFER = "/v2/models/iris/infer"
ROW = [5.1, 3.5, 1.4, 0.2]  # a setosa: class 0


def body(data=None, *, shape=None, datatype="FP64", name="input-0", **extra):
    data = [ROW] if data is None else data
    tensor = {"name": name, "shape": shape or [len(data), 4], "datatype": datatype, "data": data}
    return json.dumps({"inputs": [tensor], **extra})


def post(api, payload, url=INFER, **kwargs):
    return api.post(url, payload, content_type="application/json", **kwargs)


# --- answers --------------------------------------------------------------------------------


def test_it_predicts_one_row(api, served_iris, iris_pipeline):
    response = post(api, body(id="req-1"))

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "model_name": "iris",
        "model_version": "1",
        "id": "req-1",
        "outputs": [{"name": "predict", "datatype": "INT64", "shape": [1], "data": [0]}],
    }


def test_a_batch_gives_the_same_answers_as_the_model(api, served_iris, iris, iris_pipeline):
    X, _ = iris
    flat = X.ravel().tolist()  # row-major flat data, as the protocol allows

    response = post(api, body(flat, shape=[len(X), 4], outputs=[{"name": "predict"}, {"name": "predict_proba"}]))

    assert response.status_code == 200, response.content
    predict, proba = response.json()["outputs"]
    assert predict["shape"] == [150] and predict["data"] == iris_pipeline.predict(X).tolist()
    assert proba["name"] == "predict_proba" and proba["datatype"] == "FP64" and proba["shape"] == [150, 3]
    np.testing.assert_allclose(np.reshape(proba["data"], (150, 3)), iris_pipeline.predict_proba(X))


def test_integers_are_taken_as_numbers(api, served_iris):
    response = post(api, body([[5, 3, 1, 0]], datatype="INT64"))
    assert response.status_code == 200, response.content


def test_a_version_route_answers_with_that_version(workspace, api, served_iris, pipeline_artifact):
    registry.register_version(workspace=workspace, name="iris", uri=str(pipeline_artifact), version="2", trust=[])

    assert post(api, body(), url="/v2/models/iris/versions/2/infer").json()["model_version"] == "2"
    assert post(api, body()).json()["model_version"] == "1"  # the alias still points at 1


def test_text_labels_come_back_as_bytes(workspace, api, db, tmp_path, iris):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "named.skops"
    skops.io.dump(LogisticRegression(max_iter=500).fit(X, names), path)
    registry.register_version(workspace=workspace, name="flowers", uri=str(path), version="1", trust=[])

    response = post(api, body(), url="/v2/models/flowers/infer")

    assert response.json()["outputs"] == [{"name": "predict", "datatype": "BYTES", "shape": [1], "data": ["setosa"]}]


def test_a_model_that_takes_nan_gets_it(workspace, api, db, tmp_path, iris):
    import skops.io
    from sklearn.ensemble import HistGradientBoostingClassifier

    path = tmp_path / "hgb.skops"
    skops.io.dump(HistGradientBoostingClassifier(max_iter=5).fit(*iris), path)
    registry.register_version(
        workspace=workspace, name="hgb", uri=str(path), version="1", trust=skops.io.get_untrusted_types(file=path)
    )

    response = post(
        api,
        '{"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64", "data": [NaN, 1, 2, 3]}]}',
        url="/v2/models/hgb/infer",
    )

    assert response.status_code == 200, response.content


def test_both_routes_predict_without_scikit_learns_second_finiteness_check(api, served_iris, monkeypatch):
    """The parse refuses what that check would (test_hostile_infer, the NaN model above), so each
    route predicts with `assume_finite`: Django's view for a cold worker, mlservice.fast after."""
    from sklearn import get_config
    from sklearn.utils import validation

    checked = validation._assert_all_finite
    asked: list[bool] = []

    def spy(*args, **kwargs):
        asked.append(get_config()["assume_finite"])
        return checked(*args, **kwargs)

    monkeypatch.setattr(validation, "_assert_all_finite", spy)

    answers = [post(api, body()) for _ in range(2)]

    assert [a.json()["outputs"][0]["data"] for a in answers] == [[0], [0]]
    assert api.handler.answered == ["django", "fast"]
    assert asked and all(asked)  # scikit-learn asked, and was told the rows are finite
    assert get_config()["assume_finite"] is False  # only inside the prediction


# --- metadata, readiness, health ------------------------------------------------------------


def test_model_metadata(api, served_iris):
    response = api.get("/v2/models/iris")

    assert response.status_code == 200
    assert response.json() == {
        "name": "iris",
        "versions": ["1"],
        "platform": "scikit-learn",
        "inputs": [{"name": "input-0", "datatype": "FP64", "shape": [-1, 4]}],
        "outputs": [
            {"name": "predict", "datatype": "INT64", "shape": [-1]},
            {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]},
        ],
        "parameters": {"ready": True, "degraded": False, "served_version": "1"},
    }
    assert api.get("/v2/models/iris/versions/1").json()["name"] == "iris"


def test_model_ready(api, served_iris):
    assert api.get("/v2/models/iris/ready").json() == {
        "name": "iris",
        "ready": True,
        "parameters": {"degraded": False, "served_version": "1"},
    }
    assert api.get("/v2/models/iris/versions/1/ready").status_code == 200
    assert api.get("/v2/models/iris/versions/9/ready").status_code == 404


def test_health_and_server_metadata_need_no_token(client, db):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2").json()["name"] == "snailtrail-mlservice"


# --- refused requests -----------------------------------------------------------------------

BAD_INPUTS = {
    "malformed JSON": ('{"inputs": [', "not valid JSON"),
    "not an object": ("[1, 2]", "JSON object"),
    "no inputs": ("{}", "`inputs` must be a list"),
    "two inputs": (
        json.dumps({"inputs": [json.loads(body())["inputs"][0]] * 2}),
        "one input tensor",
    ),
    "unknown top-level field": (body(input=[]), "Unknown field(s) in the request: input"),
    "wrong input name": (body(name="x"), "this model's input is 'input-0'"),
    "missing data": (json.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64"}]}), "lacks: data"),
    "text datatype": (body(datatype="BYTES"), "'BYTES' is not accepted"),
    "one-dimensional shape": (body(shape=[4]), "[rows, 4]"),
    "negative shape": (body(shape=[-1, 4]), "[rows, 4]"),
    "wrong feature count": (body([[1, 2, 3, 4, 5]], shape=[1, 5]), "takes 4 features per row; the shape says 5"),
    "shape and data disagree": (body([[1, 2, 3]], shape=[1, 4]), "needs 4 values; `data` has 3"),
    "ragged rows": (body([[1, 2, 3, 4], [1, 2]], shape=[2, 4]), "not a regular array"),
    "strings": (body([["a", "b", "c", "d"]]), "numbers only"),
    "null": (body([[1, None, 3, 4]]), "numbers only"),
    "booleans": (body([[True, False, True, False]]), "true/false"),
    "fractions declared INT": (body([[1.5, 2, 3, 4]], datatype="INT64"), "holds 1.5 (row 0): INT64 takes integers"),
    # Not JSON, but what Python's json.dumps writes for float("nan") and float("inf").
    "NaN": (body([[1, 2, 3, 4]]).replace("[[1, 2, 3, 4]]", "[[NaN, 1, 2, 3]]"), "NaN (row 0)"),
    "infinity": (
        body([[1, 2, 3, 4], [5, 6, 7, 8]]).replace("[5, 6,", "[5, Infinity,"),
        "infinite value (row 1)",
    ),
    "huge number": (body([[1e309, 1, 2, 3]]), "infinite value"),
    "unknown output": (body(outputs=[{"name": "decision_function"}]), "Unknown output 'decision_function'"),
    "outputs not a list": (body(outputs="predict"), "`outputs` must be a list"),
    "id not a string": (body(id=7), "`id` must be a string"),
}


@pytest.mark.parametrize("payload, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_a_400_saying_what_is_wrong(api, served_iris, payload, message):
    response = post(api, payload)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert message in error
    assert "Traceback" not in error and list(response.json()) == ["error"]


def test_a_body_that_is_not_utf8_is_a_400(api, served_iris):
    assert post(api, b"\xff\xfe{").status_code == 400


def test_a_body_over_the_limit_is_a_413_before_it_is_read(api, served_iris, settings):
    settings.MLSERVICE_MAX_BODY_BYTES = 100

    response = post(api, body([ROW] * 10, shape=[10, 4]))

    assert response.status_code == 413
    assert response.json() == {"error": f"The body is {len(body([ROW] * 10, shape=[10, 4]))} bytes; the limit is 100."}


@pytest.mark.parametrize(
    "url, message",
    [
        ("/v2/models/nope/infer", "no model named 'nope'"),
        ("/v2/models/iris/versions/7/infer", "has no version '7' (it has: 1)"),
    ],
)
def test_unknown_models_and_versions_are_404(api, served_iris, url, message):
    response = post(api, body(), url=url)

    assert response.status_code == 404
    assert message in response.json()["error"]


def test_unknown_routes_under_v2_are_json_404(api, db):
    response = api.get("/v2/nothing/here")

    assert response.status_code == 404
    assert response.json() == {"error": "Not found."}


def test_the_wrong_method_is_a_405(api, served_iris):
    response = api.get(INFER)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "use POST" in response.json()["error"]
    assert api.post("/v2/models/iris").status_code == 405


# --- who may ask --------------------------------------------------------------------------


def test_no_token_is_a_401_that_says_how(client, served_iris):
    response = post(client, body())

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert "Authorization: Token" in response.json()["error"]
    assert client.get("/v2/models/iris").status_code == 401
    assert client.get("/v2/models/iris/ready").status_code == 401


def test_a_session_is_not_enough(client, owner, served_iris):
    """Cookies are never accepted, so the CSRF-exempt route cannot be driven from another site."""
    client.force_login(owner)
    assert post(client, body()).status_code == 401


def test_a_wrong_token_is_a_401(client, served_iris):
    assert post(client, body(), HTTP_AUTHORIZATION="Token nope").status_code == 401
    assert post(client, body(), HTTP_AUTHORIZATION="Basic abc").status_code == 401


def test_bearer_works_like_token(client, token, served_iris):
    assert post(client, body(), HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_a_deleted_token_stops_at_once(api, token, served_iris):
    assert post(api, body()).status_code == 200
    Token.objects.filter(key=token).delete()  # through the ORM's delete(): signals run
    assert post(api, body()).status_code == 401


def test_an_inactive_users_token_is_refused(api, owner, served_iris):
    owner.is_active = False
    owner.save()
    assert post(api, body()).status_code == 401


def test_a_known_token_costs_no_query(api, served_iris, settings):
    settings.MLSERVICE_REFRESH_SECONDS = 60
    assert post(api, body()).status_code == 200  # warms the token, the snapshot and the model

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert post(api, body()).status_code == 200

    assert len(queries) == 0, [q["sql"] for q in queries]


def test_the_throttle_counts_per_token(api, client, teammate, served_iris, settings):
    settings.MLSERVICE_INFER_RATE = "3/min"
    cache.clear()
    for _ in range(3):
        assert post(api, body()).status_code == 200

    refused = post(api, body())

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many requests" in refused.json()["error"]
    other = Token.objects.create(user=teammate).key
    assert post(client, body(), HTTP_AUTHORIZATION=f"Token {other}").status_code == 200  # another token's count


def test_a_model_saved_with_another_scikit_learn_says_so(api, served_iris):
    from mlservice.models import ModelVersion

    ModelVersion.objects.filter(pk=served_iris.pk).update(sklearn_version="1.0.2")

    parameters = api.get("/v2/models/iris").json()["parameters"]

    assert parameters["ready"] is True
    assert "saved with scikit-learn 1.0.2" in parameters["warnings"][0]


# --- anything at all ------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_tensors = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["input-0", "x"]) | st.integers(),
        "shape": st.lists(st.integers(-2, 5), max_size=3) | _json_values,
        "datatype": st.sampled_from(["FP64", "INT64", "BYTES", "BOOL", "fp64"]) | _json_values,
        "data": st.lists(st.integers(-5, 5) | st.floats(allow_nan=False) | _json_values, max_size=12)
        | st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=True), max_size=5), max_size=3),
    },
)
_requests = st.fixed_dictionaries(
    {},
    optional={
        "id": _json_values,
        "inputs": st.lists(_tensors, max_size=2) | _json_values,
        "outputs": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["predict", "predict_proba", "x"])}))
        | _json_values,
        "parameters": _json_values,
    },
)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=_requests | _json_values)
def test_no_body_gives_a_500(api, served_iris, payload):
    response = post(api, json.dumps(payload))

    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"] == "application/json"
    if response.status_code == 400:
        assert list(response.json()) == ["error"]

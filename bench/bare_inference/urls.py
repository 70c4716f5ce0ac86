"""`POST /v2/models/iris/infer`: json.loads, predict, json.dumps. No validation beyond what numpy does."""

import json
import os

import numpy as np
import skops.io
from django.http import HttpResponse
from django.urls import path

_PATH = os.environ["BARE_INFERENCE_MODEL"]
# Our own file, just written by the bench: trust whatever it holds.
MODEL = skops.io.load(_PATH, trusted=skops.io.get_untrusted_types(file=_PATH))


def infer(request):
    tensor = json.loads(request.body)["inputs"][0]
    predicted = MODEL.predict(np.asarray(tensor["data"], dtype=np.float64).reshape(tensor["shape"]))
    content = json.dumps(
        {
            "model_name": "iris",
            "model_version": "1",
            "outputs": [
                {"name": "predict", "shape": [len(predicted)], "datatype": "INT64", "data": predicted.tolist()}
            ],
        }
    ).encode()
    response = HttpResponse(content, content_type="application/json")
    # What CommonMiddleware would add; without it gunicorn answers chunked.
    response["Content-Length"] = str(len(content))
    return response


urlpatterns = [path("v2/models/iris/infer", infer)]

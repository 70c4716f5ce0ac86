"""The floor of this stack for bench/inference.py: a standalone Django project (no apps, no
middleware, no database) whose one view parses an Open Inference Protocol body with `json.loads`,
predicts with the model and answers JSON. Served by the same gunicorn, with the same config file,
as the real endpoint; whatever the real endpoint costs above this is ours (auth, throttle, metrics,
validation, the registry).

`floor.py` is less still: a WSGI callable answering fixed bytes without Django, used
only to check that the load generator can drive more requests than the servers under test.
"""

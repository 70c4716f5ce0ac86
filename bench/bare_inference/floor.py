"""A WSGI callable that reads the body and answers fixed bytes, without Django: what gunicorn and
the load generator manage together, to show the generator is not what limits the other servers."""

_BODY = b'{"ok":true}'
_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_BODY)))]


def application(environ, start_response):
    environ["wsgi.input"].read()
    start_response("200 OK", _HEADERS)
    return [_BODY]

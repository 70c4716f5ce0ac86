"""Project wiring: settings, URLs, WSGI and the Celery app."""

import atexit
import gc

from .celery_app import app as celery_app

__all__ = ("celery_app",)

# A process ends without a last garbage collection of everything it imported (issue #18). At exit
# the interpreter removes its ~1,800 modules and collects the whole heap they leave: about 0.3 s of
# CPU for every `manage.py` command, and for every gunicorn worker recycled after max_requests.
# Frozen objects are left to the operating system instead. The atexit handlers all still run
# (they are called before this one: it is registered first), logging is flushed and shut down, and
# what is not in a reference cycle is still freed as the modules are cleared; only the finalizers
# of cyclic garbage left at exit are skipped, which Python never promises to run anyway (the
# data model's note on __del__).
atexit.register(gc.freeze)

"""`make run`: the whole app on one machine, with nothing to install but Python.

Starts, in order:
1. a moto server on loopback: the demo AWS (no account, nothing leaves the machine); boto3 finds
   it through AWS_ENDPOINT_URL, the standard variable, exactly as a real deployment finds AWS;
2. the demo data: the user, the example operation, the demo model `iris` (in moto's S3), the
   example's network in moto, and live checks linked to the example's findings, criteria and
   blocker (`setup_demo`, `demo_model`, `demo_checks`);
3. Django's development server, in the foreground;
4. once it answers, a Celery worker with beat, so the checks run every few seconds.
Ctrl-C stops them all. Set SNAILTRAIL_DEMO_AWS=0 to skip the moto server and the worker.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        return spare.getsockname()[1]


def wait_for(port: int, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"{what} did not start on 127.0.0.1:{port} within {seconds:.0f} s")


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--moto-port", type=int, default=5055)
    options = parser.parse_args()
    url = f"http://{options.host}:{options.port}/"
    env = dict(os.environ)
    children: list[subprocess.Popen] = []

    def stop(*_):
        # A second Ctrl-C or SIGTERM while stopping must not leave a child behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    demo_aws = env.get("SNAILTRAIL_DEMO_AWS", "1") != "0"
    try:
        if demo_aws:
            port = free_port(options.moto_port)
            env.update(
                AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                AWS_ACCESS_KEY_ID="demo",
                AWS_SECRET_ACCESS_KEY="demo",  # noqa: S105 - moto's; no real credential exists here
                AWS_DEFAULT_REGION="us-east-1",
                AWS_EC2_METADATA_DISABLED="true",
            )
            var = Path(env.get("SNAILTRAIL_VAR_DIR", ROOT / "var"))
            var.mkdir(parents=True, exist_ok=True)
            log = open(var / "moto.log", "ab")  # noqa: SIM115 - lives as long as the server
            # moto reports the demo service's runningCount from this variable (see ops/demo.py).
            moto_env = {**env, "MOTO_ECS_SERVICE_RUNNING": "1"}
            moto = [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
            children.append(subprocess.Popen(moto, stdout=log, stderr=log, env=moto_env))
            wait_for(port, "The demo AWS (moto)")
            print(f"Demo AWS (moto) at {env['AWS_ENDPOINT_URL']}; its log is var/moto.log")
        manage("setup_demo", "--url", url, env=env)
        manage("demo_notifications", env=env)  # its events land in var/notifications.log
        if demo_aws:
            # Its ML inference check has no URL: this app's own address is loopback, which no check
            # may reach (core.egress, docs/egress.md), so the worker asks this app's mlservice in process.
            manage("demo_checks", env=env)
        # After demo_checks, which starts the demo AWS afresh (its S3 bucket with it).
        manage("demo_model", *(["--s3"] if demo_aws else []), env=env)
        server = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"{options.host}:{options.port}"], cwd=ROOT, env=env
        )
        children.append(server)
        if demo_aws:
            # The worker starts once the app answers, so a newcomer's first page does not wait on its start-up.
            wait_for(int(options.port), "The app")
            children.append(
                subprocess.Popen(
                    [PYTHON, "-m", "celery", "-A", "config", "worker", "--beat", "--pool=solo", "--loglevel=WARNING"],
                    cwd=ROOT,
                    env=env,
                )
            )
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()

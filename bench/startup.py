"""What a command costs before it does anything: `manage.py check` against the floor,
`python -c "import django; django.setup()"` with the same settings (issue #18).

Each is run `--repeat` times as a fresh process, alternately; the figure is the median CPU time
(user + system of the child, from `resource.getrusage(RUSAGE_CHILDREN)`: less sensitive to a busy
machine than wall time, which is printed beside it). Also `import config.wsgi` (what gunicorn's
workers pay before their first request), and which of scikit-learn and skops each one imported.

`--compare <commit>` measures that commit's tree the same way in the same run (exported with
`git archive` to a temporary directory), for a before/after.

Our packages are compiled to bytecode first (`compileall`), as a command finds them on a deployed
image (the Dockerfile compiles /app) or from its second run in a checkout. With `--no-bytecode`
their `__pycache__` directories are removed and the commands run with PYTHONDONTWRITEBYTECODE=1,
so that each one compiles every module it imports from source, as on a first run: about 0.3 s more.

Targets (exit 1 when missed, unless --no-targets): `manage.py check` <= 1.0 s CPU and <= 2x the floor.

    python bench/startup.py [--repeat 5] [--compare <commit>] [--no-bytecode] [--no-targets]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU = 1.0
TARGET_RATIO = 2.0
SETTINGS = "config.settings.local"  # manage.py's default
PACKAGES = ("config", "core", "tracker", "ops", "mlservice", "notify", "audit")  # ours, compiled or not

# Each command prints the heavy packages it ended up with, on its last line.
_HEAVY = "import sys; print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'skops'}))"
COMMANDS = {
    "floor: django.setup()": ["-c", f"import django; django.setup(); {_HEAVY}"],
    "manage.py check": [
        "-c",
        f"from django.core.management import execute_from_command_line as run; run(['manage.py', 'check']); {_HEAVY}",
    ],
    "import config.wsgi": ["-c", f"import config.wsgi; {_HEAVY}"],
}


def run_once(tree: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(CPU seconds, wall seconds, the heavy packages it imported) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(args)[:80]} in {tree} exited {done.returncode}:\n{done.stderr[-2000:]}")
    heavy = next((line[6:] for line in reversed(done.stdout.splitlines()) if line.startswith("HEAVY ")), "?")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, heavy


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def prepare(tree: Path, bytecode: bool) -> None:
    """Our packages compiled to bytecode, or with none to read (then nothing may write any)."""
    packages = [str(tree / name) for name in PACKAGES]
    if bytecode:
        subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, stdout=subprocess.DEVNULL)
        return
    for package in packages:
        for cache in Path(package).rglob("__pycache__"):
            shutil.rmtree(cache)


def measure(tree: Path, repeat: int, var: Path, bytecode: bool) -> dict[str, dict[str, object]]:
    prepare(tree, bytecode)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env |= {"DJANGO_SETTINGS_MODULE": SETTINGS, "SNAILTRAIL_VAR_DIR": str(var), "PYTHONPATH": str(tree)}
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    runs: dict[str, list[tuple[float, float, str]]] = {name: [] for name in COMMANDS}
    for _ in range(repeat):  # alternately, so that machine noise hits each alike
        for name, args in COMMANDS.items():
            runs[name].append(run_once(tree, args, env))
    return {
        name: {
            "cpu": median([cpu for cpu, _, _ in found]),
            "wall": median([wall for _, wall, _ in found]),
            "heavy": found[-1][2],
        }
        for name, found in runs.items()
    }


def export(repo: Path, commit: str, into: Path) -> Path:
    tree = into / commit[:12]
    tree.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=repo, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def report(label: str, figures: dict[str, dict[str, object]]) -> tuple[float, float]:
    floor = figures["floor: django.setup()"]["cpu"]
    print(f"{label}:")
    for name, figure in figures.items():
        print(
            f"  {name:24} CPU {figure['cpu']:5.2f} s ({figure['cpu'] / floor:4.2f}x the floor), "
            f"wall {figure['wall']:5.2f} s, imported {figure['heavy']}"
        )
    return figures["manage.py check"]["cpu"], floor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command; figures are medians")
    parser.add_argument("--compare", metavar="COMMIT", help="also measure this commit's tree, for a before/after")
    parser.add_argument("--repo", type=Path, default=ROOT, help="the git repository --compare exports from")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="our modules compiled from source by every run, as on a first run"
    )
    parser.add_argument("--no-targets", action="store_true", help="report the targets, do not fail on them")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 50:
        parser.error("--repeat must be in [1, 50]")
    print(
        f"{args.repeat} fresh processes per command, medians; settings {SETTINGS}; {os.cpu_count()} cores; "
        f"load average at start: {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}; our modules "
        f"{'compiled from source by every run' if args.no_bytecode else 'compiled to bytecode beforehand'}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="snailtrail-bench-startup-") as scratch:
        scratch_dir = Path(scratch)
        if args.compare:
            tree = export(args.repo, args.compare, scratch_dir)
            before = measure(tree, args.repeat, scratch_dir / "var-before", not args.no_bytecode)
            before_check, before_floor = report(f"before ({args.compare})", before)
        figures = measure(ROOT, args.repeat, scratch_dir / "var", not args.no_bytecode)
        check, floor = report("this tree", figures)
    if args.compare:
        print(f"manage.py check: {before_check:.2f} s -> {check:.2f} s of CPU ({before_check / check:.1f}x less)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    missed = []
    for name, value, bound in (
        ("manage.py check CPU (s)", check, TARGET_CPU),
        ("manage.py check / floor", check / floor, TARGET_RATIO),
    ):
        met = value <= bound
        print(f"target {name} <= {bound:g}: {value:.2f}, {'met' if met else 'MISSED'}")
        if not met:
            missed.append(name)
    if missed and not args.no_targets:
        print(f"FAIL: target(s) missed: {', '.join(missed)} (--no-targets to only report)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

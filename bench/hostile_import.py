"""Parse hostile tracker documents: seconds per MB and peak memory per shape, against targets.

Each shape is a document of about `--size` bytes (2,000,000 by default: the size of the import that
took 61 s and 200 MB in issue #14), read the way an import reads it (`decode` then `parse`, with the
budgets of the settings, TRACKER_MAX_* from the environment). Absolute times drift on a shared
machine, so each is also given as a ratio to a baseline measured in the same process, in the same
run: the real example document (docs/examples/operation-snail-trail.md) repeated to the same size
and parsed in full, its budgets lifted: what parsing a real document costs per MB.

Two kinds of shapes: the ones of the issue (blank lines, one huge line, thousands of headings,
problems, nested lists, every line a problem, a million `-` lines), which a budget should refuse
early or which are cheap anyway; and "at the budget" ones, the worst documents that pass every
budget (as many blocks, lines and levels as allowed, padded to the size), which are parsed in full.

Targets (issue #14): at least 5 MB/s on every shape of the issue, and a peak (tracemalloc) of at
most 20 times the document's size. A shape at the budget is parsed in full, by markdown-it at its
own speed (~50 µs a list item), so its target is the baseline's: no slower per MB than a real
document, and the same 20 times for memory; the budgets bound its seconds. Exit status 1 with a
FAIL line when a target is missed (--no-targets: report only).

    python bench/hostile_import.py [--size 2000000] [--repeat 3] [--shape blank --shape ...]

The seconds are the median of --repeat runs; the memory is one more run under tracemalloc (which
slows it, so it is not timed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import inference

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = (ROOT / "docs" / "examples" / "operation-snail-trail.md").read_text(encoding="utf-8")

TARGET_MB_PER_SECOND = 5.0
TARGET_PEAK_RATIO = 20.0
BASELINE = "baseline: the example ×N, budgets lifted"


@dataclass
class Shape:
    name: str
    text: str
    kind: str  # "issue" or "at the budget"


@dataclass
class Figures:
    shape: Shape
    size: int
    lines: int
    seconds: float
    peak: int
    outcome: str

    @property
    def mb_per_second(self) -> float:
        return self.size / 1e6 / self.seconds

    @property
    def peak_ratio(self) -> float:
        return self.peak / self.size


def filled(head: str, unit: Callable[[int], str], size: int, count: int | None = None) -> str:
    """`head` then unit(0), unit(1)... until the text is about `size` bytes, or has `count` units."""
    parts, total, i = [head], len(head.encode()), 0
    while total < size and (count is None or i < count):
        part = unit(i)
        parts.append(part)
        total += len(part.encode())
        i += 1
    return "".join(parts)


def padded(text: str, width: int) -> str:
    """`text` lengthened with words to about `width` characters: a long line that is still prose."""
    return text + " slow and steady" * max(0, (width - len(text)) // 16)


def shapes(size: int, limits) -> list[Shape]:
    # The title, the motto and the OVERALL STATUS section: a valid tracker on its own.
    header = EXAMPLE.split("## 📊")[0]
    title = header.split("## 🎯")[0]
    overall = f"{title}## 🎯 **OVERALL STATUS**\n\n**Operation Snail Trail**: IN PROGRESS 🚀\n"
    next_steps = header + "## 🚀 **NEXT STEPS**\n\n### **Immediate Actions:**\n"
    phases = header + "## 📊 **PHASE COMPLETION STATUS**\n\n"
    # The "at the budget" shapes use 95% of each budget (the header takes some), padded to `size`.
    blocks, lines, depth = int(limits.max_blocks * 0.95), int(limits.max_lines * 0.95), limits.max_nesting
    phase_count = min(blocks // 2, lines // 3)  # a heading and a status line, then a blank line
    nest_count = min(blocks // depth, lines // (depth + 1))  # `depth` items nested, then a blank line
    return [
        Shape("example ×N", filled("", lambda i: EXAMPLE, size), "issue"),
        Shape("blank lines", header + "\n" * (size - len(header.encode())), "issue"),
        Shape("one huge line", overall + "**Remark**: " + "snail " * (size // 6) + "\n", "issue"),
        Shape("thousands of headings", filled(header, lambda i: f"## Heading {i}\n\n", size), "issue"),
        Shape(
            "thousands of problems",
            filled(phases, lambda i: f"### **Phase {i + 1}: Step** ✅\n- **Status**: 140% Complete\n\n", size),
            "issue",
        ),
        Shape("deeply nested lists", filled(next_steps, lambda i: "  " * (i % 1000) + "- step\n", size), "issue"),
        Shape("lists nested on one line", header + "- " * ((size - len(header)) // 2) + "x\n", "issue"),
        Shape("every line a problem", filled(overall, lambda i: f"this is line {i}, not a label\n", size), "issue"),
        Shape("'-' lines (the issue's 2.0 MB)", header + "-\n" * 1_000_000, "issue"),
        Shape(
            "list items at the budget",
            filled(
                next_steps,
                lambda i: padded(f"{i + 1}. [ ] **Step {i + 1}**: keep going", size // blocks - 1) + "\n",
                size,
                blocks,
            ),
            "at the budget",
        ),
        Shape(
            "headings at the budget",
            filled(header, lambda i: padded(f"## Heading {i}", size // blocks - 2) + "\n\n", size, blocks),
            "at the budget",
        ),
        Shape(
            "problems at the budget",
            filled(
                phases,
                lambda i: (
                    padded(f"### **Phase {i + 1}: Step", min(480, size // phase_count - 40))
                    + "** ✅\n- **Status**: 140% Complete\n\n"
                ),
                size,
                phase_count,
            ),
            "at the budget",
        ),
        Shape(
            "lines at the budget, each a problem",
            filled(overall, lambda i: padded(f"line {i} is not a label", size // lines - 1) + "\n", size, lines),
            "at the budget",
        ),
        Shape(
            "nesting at the budget",
            filled(
                next_steps,
                lambda i: (
                    "".join(
                        "  " * level + padded(f"- item {i}.{level}", size // (nest_count * depth) - 2 * level) + "\n"
                        for level in range(depth)
                    )
                    + "\n"
                ),
                size,
                nest_count,
            ),
            "at the budget",
        ),
    ]


def reader(limits) -> Callable[[bytes], str]:
    """What an import does with the bytes: decode, then parse; the outcome in a few words."""
    from tracker.lib import parser

    with_limits = hasattr(parser, "Limits")  # the parser before the budgets had none (--before runs)

    def read(data: bytes) -> str:
        try:
            if with_limits:
                parser.parse(parser.decode(data, limits), limits)
            else:
                parser.parse(parser.decode(data))
        except parser.DocumentError as error:
            total = getattr(error, "total", len(error.problems))
            for setting in ("TRACKER_MAX_LINES", "TRACKER_MAX_BLOCKS", "TRACKER_MAX_NESTING", "DOCUMENT_BYTES"):
                if total == 1 and setting in error.problems[0].message:
                    return f"refused: {setting.removeprefix('TRACKER_')}"
            return f"{total:,} problems ({len(error.problems)} listed)"
        return "imports"

    return read


def measure(shape: Shape, read: Callable[[bytes], str], repeat: int) -> Figures:
    data = shape.text.encode()
    samples, outcome = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        outcome = read(data)
        samples.append(time.perf_counter() - start)
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    read(data)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return Figures(shape, len(data), shape.text.count("\n"), statistics.median(samples), peak, outcome)


def settings_limits():
    """The budgets of the settings (and so of TRACKER_MAX_* in the environment), and budgets lifted."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from tracker.lib import parser

    if not hasattr(parser, "Limits"):
        return None, None
    from tracker.importers import limits

    configured = limits()
    lifted = parser.Limits(max_bytes=10**12, max_lines=10**12, max_blocks=10**12, max_nesting=configured.max_nesting)
    return configured, lifted


def bench(args) -> int:
    configured, lifted = settings_limits()
    if configured is not None:
        print(
            f"budgets: {configured.max_bytes:,} bytes, {configured.max_lines:,} lines, "
            f"{configured.max_blocks:,} blocks, nesting {configured.max_nesting}"
        )
    else:
        print("budgets: none (the parser before issue #14)")
    # The shapes are sized by the budgets; for a parser without any, by today's defaults, so that a
    # run before and after issue #14 parses the same documents.
    budget_source = configured or SimpleNamespace(max_lines=20_000, max_blocks=10_000, max_nesting=6)
    all_shapes = [s for s in shapes(args.size, budget_source) if s.text]
    if args.shape:
        all_shapes = [s for s in all_shapes if any(word in s.name for word in args.shape)]
    reference = Shape(BASELINE, filled("", lambda i: EXAMPLE, args.size), "baseline")
    baseline = measure(reference, reader(lifted), args.repeat)
    read = reader(configured)
    results = []
    for shape in all_shapes:
        results.append(measure(shape, read, args.repeat))
        print(f"  measured {shape.name}", file=sys.stderr, flush=True)

    print(
        f"median of {args.repeat} runs; targets: >= {TARGET_MB_PER_SECOND:g} MB/s (at the budget: >= the "
        f"baseline's), peak <= {TARGET_PEAK_RATIO:g}x the size"
    )
    print()
    print("| shape | MB | lines | outcome | seconds | MB/s | × baseline | peak MB | peak / size | target |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---|")
    missed = []
    for figures in [baseline, *results]:
        is_baseline = figures is baseline
        floor = TARGET_MB_PER_SECOND if figures.shape.kind == "issue" else baseline.mb_per_second
        met = figures.mb_per_second >= floor and figures.peak_ratio <= TARGET_PEAK_RATIO
        verdict = "(reference)" if is_baseline else ("PASS" if met else "FAIL")
        if not is_baseline and not met:
            missed.append(figures.shape.name)
        print(
            f"| {figures.shape.name} | {figures.size / 1e6:.2f} | {figures.lines:,} | {figures.outcome} "
            f"| {figures.seconds:.3f} | {figures.mb_per_second:.1f} "
            f"| {figures.mb_per_second / baseline.mb_per_second:.1f} | {figures.peak / 1e6:.1f} "
            f"| {figures.peak_ratio:.1f} | {verdict} |"
        )
    if missed and not args.no_targets:
        print(f"FAIL: target(s) missed: {'; '.join(missed)} (--no-targets to only report)")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2_000_000, help="bytes of each document (default 2,000,000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", action="append", help="only the shapes whose name has this word (repeatable)")
    parser.add_argument("--no-targets", action="store_true", help="report the figures without failing on a target")
    args = parser.parse_args()
    return inference.guarded(lambda: bench(args))


if __name__ == "__main__":
    sys.exit(main())

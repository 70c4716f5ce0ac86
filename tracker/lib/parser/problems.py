"""A document's budgets (`Limits`), its problems (each with its line), and reading its bytes as text."""

from __future__ import annotations

import heapq
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How large a document may be. Each budget is a Django setting of the same meaning, declared
    with its default (and why that default) in config/settings/base.py; this module knows no Django,
    so `tracker.importers.limits()` reads the settings and passes them in. The defaults here are
    the settings' defaults, for callers without settings (the fuzz tests, the benchmark)."""

    max_bytes: int = 2 * 1024 * 1024  # TRACKER_MAX_DOCUMENT_BYTES
    max_lines: int = 20_000  # TRACKER_MAX_LINES
    max_blocks: int = 10_000  # TRACKER_MAX_BLOCKS
    max_nesting: int = 6  # TRACKER_MAX_NESTING


DEFAULT_LIMITS = Limits()
# A document with a million bad lines is told about the first few hundred, and how many more there are.
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


class DocumentError(Exception):
    """The document cannot be imported; `problems` says where and why, one entry per problem.

    `problems` is at most `MAX_PROBLEMS` entries plus one saying how many more there were;
    `total` counts them all.
    """

    def __init__(self, problems: list[Problem], total: int | None = None):
        self.problems = sorted(problems, key=lambda p: p.line)
        self.total = max(total or 0, len(self.problems))
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in self.problems))

    def format(self, path: str) -> str:
        return "\n".join(f"{path}:{p.line}: {p.message}" for p in self.problems)


class _Problems:
    """The first `limit` problems by line, and how many there were in all.

    A bounded heap (the kept problem with the largest line on top) rather than a list sorted at the
    end: every line of a document can be wrong, and the answer must stay small.
    """

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.limit = limit
        self.total = 0
        self.first_left_out: int | None = None
        self._heap: list[tuple[int, int, str]] = []  # (-line, -order, message)

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        entry = (-line, -self.total, message)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
            return
        if entry > self._heap[0]:  # an earlier line than the latest kept one
            entry = heapq.heapreplace(self._heap, entry)
        self.first_left_out = min(-entry[0], self.first_left_out or -entry[0])

    def listed(self) -> list[Problem]:
        """The kept problems in line order (the order they were found within a line), then the count of the rest."""
        kept = [Problem(-line, message) for line, _order, message in sorted(self._heap, key=lambda e: (-e[0], -e[1]))]
        left_out = self.total - len(kept)
        if left_out:
            plural = "s" if left_out != 1 else ""
            more = f"and {left_out:,} more problem{plural} (only the first {len(kept)} are listed)"
            kept.append(Problem(self.first_left_out or kept[-1].line, more))
        return kept

    def error(self) -> DocumentError:
        return DocumentError(self.listed(), self.total)


def _over(what: str, count: int, limit: int, setting: str, unit: str = "") -> Problem:
    return Problem(1, f"the document {what} {count:,}{unit}; the limit is {limit:,} ({setting})")


def size_problem(size: int, limits: Limits = DEFAULT_LIMITS) -> Problem | None:
    """The problem of a document of `size` bytes if it is over the budget, else None. The page
    upload, the API and `import_tracker` ask before they read a document."""
    if size <= limits.max_bytes:
        return None
    return _over("is", size, limits.max_bytes, "TRACKER_MAX_DOCUMENT_BYTES", " bytes")


def decode(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    """Bytes of an uploaded or read file -> text, refusing what is not a UTF-8 text document.

    The size is checked first, before anything copies the bytes."""
    too_large = size_problem(len(data), limits)
    if too_large:
        raise DocumentError([too_large])
    if not data or data.isspace():  # (not data.strip(): a copy of two megabytes to learn one bit)
        raise DocumentError([Problem(1, "the document is empty")])
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise DocumentError([Problem(line, "this is a binary file, not a markdown document (it has NUL bytes)")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DocumentError(
            [Problem(line, f"the document is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be read)")]
        ) from None
    return text.removeprefix("\ufeff")

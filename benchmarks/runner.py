"""Timing: warm-up, then ours and the baseline interleaved; medians, p95, ratios, targets, pass/fail."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

WARMUP = 2


class Cancelled(Exception):  # noqa: N818 - what happened to the call
    """A call the product cancelled (its statement_timeout answered 503): `elapsed_ms` is a lower bound."""

    def __init__(self, elapsed_ms: float, why: str):
        super().__init__(why)
        self.elapsed_ms, self.why = elapsed_ms, why


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclasses.dataclass
class Row:
    """One line of the results (the shape issue 10 fixes, plus p95, repetitions and a note)."""

    name: str
    ours: float | None
    baseline: float | None
    unit: str
    ratio: float | None
    target: str
    passed: bool | None
    p95: float | None = None
    baseline_p95: float | None = None
    reps: int | None = None
    note: str = ""

    def as_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["pass"] = out.pop("passed")
        return out


@dataclasses.dataclass
class Measured:
    """Times in ms of ours and of the baseline (either may be empty); `cancelled` when ours hit its cap."""

    ours: list[float] = dataclasses.field(default_factory=list)
    baseline: list[float] = dataclasses.field(default_factory=list)
    beside: list[float] = dataclasses.field(default_factory=list)  # a yardstick timed in the same repetitions
    note: str = ""
    cancelled: bool = False
    higher_is_better: bool = False

    def scaled(self, factor: float) -> Measured:
        return dataclasses.replace(
            self, ours=[t * factor for t in self.ours], baseline=[t * factor for t in self.baseline]
        )

    def rate(self, count: int) -> Measured:
        """Turn times (ms) into items per second."""
        return dataclasses.replace(
            self,
            ours=[count / (t / 1000) for t in self.ours],
            baseline=[count / (t / 1000) for t in self.baseline],
            higher_is_better=True,
        )

    def row(
        self,
        name: str,
        unit: str,
        *,
        target: str,
        limit: float | None = None,
        ratio_limit: float | None = None,
        higher_is_better: bool | None = None,
        extra_pass: bool = True,
    ) -> Row:
        """Summarise: pass when ours meets `limit` (absolute), the ratio meets `ratio_limit`, and extra_pass."""
        higher = self.higher_is_better if higher_is_better is None else higher_is_better
        ours = statistics.median(self.ours) if self.ours else None
        base = statistics.median(self.baseline) if self.baseline else None
        ratio = round(ours / base, 3) if ours is not None and base else None
        checks = [extra_pass]
        if limit is not None and ours is not None:
            checks.append(ours >= limit if higher else ours <= limit)
        if ratio_limit is not None:
            checks.append(ratio is not None and (ratio >= ratio_limit if higher else ratio <= ratio_limit))
        note = self.note
        if self.cancelled:
            checks.append(False)
            bound = "an upper bound" if higher else "a lower bound"
            note = "; ".join(filter(None, [f"cancelled at its cap: {bound}", note]))
        passed = None if ours is None else all(checks)
        return Row(
            name=name, ours=_round(ours), baseline=_round(base), unit=unit, ratio=ratio, target=target, passed=passed,
            p95=_round(p95(self.ours)), baseline_p95=_round(p95(self.baseline)), reps=len(self.ours), note=note,
        )  # fmt: skip


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    return round(value, 3 if abs(value) < 10 else 1)


def timed(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def interleaved(
    ours: Callable[[], object] | None,
    baseline: Callable[[], object] | None,
    *,
    reps: int,
    budget_s: float,
    warmup: int = WARMUP,
    beside: Callable[[], object] | None = None,
) -> Measured:
    """Warm up, then run ours, baseline, ours, ... `reps` times each, or fewer (at least 3) past `budget_s`;
    `beside` (a yardstick such as the request floor) is timed in each repetition too, so that a stall of
    the host weighs on it as on the others."""
    calls = [c for c in (ours, baseline, beside) if c is not None]
    try:
        for _ in range(warmup):
            for call in calls:
                call()
    except Cancelled as cancelled:
        return Measured(ours=[cancelled.elapsed_ms], cancelled=True, note=cancelled.why)
    measured = Measured()
    began = time.perf_counter()
    for rep in range(reps):
        try:
            if ours is not None:
                measured.ours.append(timed(ours))
            if baseline is not None:
                measured.baseline.append(timed(baseline))
            if beside is not None:
                measured.beside.append(timed(beside))
        except Cancelled as cancelled:
            measured.ours.append(cancelled.elapsed_ms)
            measured.cancelled, measured.note = True, cancelled.why
            break
        if rep >= 2 and time.perf_counter() - began > budget_s:
            measured.note = f"stopped after {rep + 1} of {reps} repetitions (time budget {budget_s:.0f} s)"
            break
    return measured


def once_capped(call: Callable[[], object], cap_s: float) -> Measured:
    """Run `call` once with every statement capped at `cap_s` (statement_timeout); a cancel is recorded."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, false)", [f"{int(cap_s * 1000)}ms"])
    began = time.perf_counter()
    try:
        call()
        return Measured(ours=[(time.perf_counter() - began) * 1000], note="measured once")
    except OperationalError as exc:
        if "statement timeout" not in str(exc):
            raise
        return Measured(ours=[(time.perf_counter() - began) * 1000], cancelled=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def queries_of(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def table(rows: list[Row]) -> str:
    """Return the rows as a printed table."""
    header = f"{'path':<62} {'ours':>10} {'baseline':>10} {'unit':<10} {'ratio':>7}  {'pass':<5} target"
    lines = [header, "-" * len(header)]
    for row in rows:
        mark = {True: "yes", False: "NO", None: "n/a"}[row.passed]
        lines.append(
            f"{row.name[:62]:<62} {_show(row.ours):>10} {_show(row.baseline):>10} {row.unit:<10} "
            f"{_show(row.ratio):>7}  {mark:<5} {row.target}"
        )
    return "\n".join(lines)


def _show(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def write(rows: list[Row], destination: Path, meta: dict) -> None:
    """Write the rows as a JSON list; the run's conditions go beside it (<name>.meta.json)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1) + "\n", "utf-8")
    meta_path = destination.with_suffix(".meta.json")
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1, default=str) + "\n", "utf-8")

"""Register clues at a fixed rate against a running server and print what came back (`make soak`).

    python3 scripts/soak.py [--url http://127.0.0.1:8000] [--rate 50] [--seconds 30] [--json]

Open loop, as phones are: request i leaves at start + i / rate whatever became of the earlier ones, each
on a connection of its own, and its latency runs from that moment, so a server that falls behind shows
it in the percentiles instead of slowing the load down. It signs in with a token as a demo user and
registers clues (a fresh client_uuid each) at points a few metres off the vertices of the server's own
reaches. Standard library only: it runs with any Python 3.10+, beside the server or elsewhere.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

CATEGORIES = ("illegal_discharge", "river_cleanliness", "encroachment", "illegal_fishing", "water_pollution")


@dataclass
class Outcome:
    latency_s: float
    kind: str  # "ok", "HTTP 500", "timeout", "ConnectionRefusedError", ...
    detail: str = ""


@dataclass
class Report:
    sent: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)

    def figures(self) -> dict:
        """Return the soak's figures: counts, success rate, achieved rate, latency percentiles, errors."""
        successes = sum(1 for outcome in self.outcomes if outcome.kind == "ok")
        latencies = sorted(outcome.latency_s for outcome in self.outcomes)
        errors = Counter(outcome.kind for outcome in self.outcomes if outcome.kind != "ok")
        examples = {}
        for outcome in self.outcomes:
            if outcome.kind != "ok" and outcome.kind not in examples:
                examples[outcome.kind] = outcome.detail
        return {
            "sent": self.sent,
            "successes": successes,
            "success_rate": successes / self.sent if self.sent else 0.0,
            "achieved_rate": successes / self.seconds if self.seconds else 0.0,
            "seconds": round(self.seconds, 3),
            "p50_s": percentile(latencies, 50),
            "p95_s": percentile(latencies, 95),
            "p99_s": percentile(latencies, 99),
            "max_s": latencies[-1] if latencies else None,
            "errors": dict(errors.most_common()),
            "error_examples": examples,
        }


def percentile(ordered: list[float], p: float) -> float | None:
    """Return the nearest-rank percentile of an ordered list."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Server:
    """The server's address; every request goes over a connection of its own."""

    def __init__(self, url: str, timeout_s: float):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SystemExit(f"soak: not an http(s) URL: {url}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout_s = timeout_s

    def request(self, method: str, path: str, body: dict | None = None, token: str = "") -> tuple[int, bytes]:
        connection_class = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.host, self.port, timeout=self.timeout_s)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Token {token}"
        try:
            connection.request(method, self.prefix + path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def sign_in(server: Server, username: str, password: str) -> str:
    status, body = server.request("POST", "/api/v1/auth/token/", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"soak: signing in as {username} answered {status}: {body[:200]!r}")
    return json.loads(body)["token"]


def reach_vertices(server: Server, token: str) -> list[tuple[float, float]]:
    """Return the vertices of the reaches the server has (the first page is plenty)."""
    status, body = server.request("GET", "/api/v1/reaches/?limit=100", token=token)
    if status != 200:
        raise SystemExit(f"soak: listing the reaches answered {status}: {body[:200]!r}")
    data = json.loads(body)
    features = data.get("results", data).get("features", [])
    vertices = []
    for feature in features:
        geometry = feature.get("geometry") or {}
        lines = geometry.get("coordinates", [])
        if geometry.get("type") == "LineString":
            lines = [lines]
        for line in lines:
            vertices.extend((lon, lat) for lon, lat, *_ in line)
    if not vertices:
        raise SystemExit("soak: the server has no reaches to register clues beside (load the demo: make demo)")
    return vertices


def soak(
    server: Server, *, token: str, rate: float, seconds: float, vertices: list, agency: str, seed: int,
    sequential: bool = False,
) -> Report:  # fmt: skip
    """Send rate × seconds registrations on schedule, each from a thread of its own; wait for every answer.

    `sequential`: send them one after another instead, each when the previous one has its answer (the
    server's time for one registration when nothing else runs; the rate is ignored).
    """
    total = int(rate * seconds)
    rng = random.Random(seed)
    outcomes: list[Outcome] = []  # list.append is atomic: the threads share it without a lock
    run = uuid.uuid4().hex[:8]

    def register(due: float, body: dict) -> None:
        try:
            status, answer = server.request("POST", "/api/v1/clues/", body, token=token)
            kind = "ok" if status == 201 else f"HTTP {status}"
            detail = "" if status == 201 else answer[:300].decode(errors="replace")
        except TimeoutError:
            kind, detail = "timeout", f"no answer in {server.timeout_s} s"
        except OSError as error:  # refused, reset, ...
            kind, detail = type(error).__name__, str(error)
        except http.client.HTTPException as error:  # RemoteDisconnected is an OSError too; the rest are not
            kind, detail = type(error).__name__, str(error)
        outcomes.append(Outcome(time.monotonic() - due, kind, detail))

    threads = []
    start = time.monotonic()
    for index in range(total):
        lon, lat = rng.choice(vertices)
        body = {
            "client_uuid": str(uuid.uuid4()),
            "category": CATEGORIES[index % len(CATEGORIES)],
            "description": f"压力测试 soak {run} #{index}",
            # Up to ~20 m off the vertex: within the snap tolerance of the reach.
            "location": {
                "type": "Point",
                "coordinates": [lon + rng.uniform(-2e-4, 2e-4), lat + rng.uniform(-1e-4, 1e-4)],
            },
            "source": "patrol",
        }
        if agency:
            body["agency"] = agency
        if sequential:
            register(time.monotonic(), body)
            continue
        due = start + index / rate
        time.sleep(max(0.0, due - time.monotonic()))
        thread = threading.Thread(target=register, args=(due, body), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return Report(sent=total, seconds=time.monotonic() - start, outcomes=outcomes)


def print_figures(figures: dict, *, rate: float, seconds: float) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.0f} ms"

    print(f"soak: {rate:g} registrations/s for {seconds:g} s")
    print(f"  requests sent   {figures['sent']}")
    print(f"  successes       {figures['successes']} (201 Created)")
    print(f"  success rate    {figures['success_rate'] * 100:.1f} %")
    print(f"  achieved rate   {figures['achieved_rate']:.1f}/s over {figures['seconds']:.1f} s")
    print(f"  latency         p50 {ms(figures['p50_s'])}  p95 {ms(figures['p95_s'])}  p99 {ms(figures['p99_s'])}"
          f"  max {ms(figures['max_s'])}")  # fmt: skip
    if figures["errors"]:
        print("  errors by kind")
        for kind, count in figures["errors"].items():
            print(f"    {count:6d} × {kind}: {figures['error_examples'][kind][:160]}")
    else:
        print("  errors          none")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running server (default: make run's)")
    parser.add_argument("--rate", type=float, default=50.0, help="registrations a second (default 50)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to hold the rate (default 30)")
    parser.add_argument("--username", default="qj_patrol", help="a user who may register clues (a demo user)")
    parser.add_argument("--password", default="river-demo-2026")
    parser.add_argument("--agency", default="", help="the agency code to register for, when the user has several")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one answer")
    parser.add_argument("--seed", type=int, default=7, help="seed of the points' choice")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument(
        "--sequential", action="store_true", help="one request at a time (the unloaded latency); rate × seconds of them"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be positive")

    server = Server(args.url, args.timeout)
    token = sign_in(server, args.username, args.password)
    vertices = reach_vertices(server, token)
    load = {"rate": args.rate, "seconds": args.seconds, "sequential": args.sequential}
    report = soak(server, token=token, vertices=vertices, agency=args.agency, seed=args.seed, **load)
    figures = report.figures()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        print_figures(figures, rate=args.rate, seconds=args.seconds)
    return 0 if figures["successes"] == figures["sent"] else 1


if __name__ == "__main__":
    sys.exit(main())

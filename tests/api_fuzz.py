"""A schema-driven fuzz run of the JSON API against a running site: schemathesis generates
requests from the OpenAPI document (webapp/core/openapi.json), both valid ones (positive) and
ones that break the document (negative), and every answer is held to the document
(tests/openapi_check.py): no 5xx, a documented status and content type, a body matching the
schema. Bounded in requests and in time. Used by tests/integration/test_api_fuzz.py (small,
in CI) and benchmarks/api_fuzz.py (>= 10,000 requests).

Votes need a voter and a battle token, which no schema can generate: one session becomes a
voter first (the proof-of-work check, solved here), and half of the positive vote cases get a
fresh token from /api/v1/battles/next of that session, so real votes, replays and the rate
limit are fuzzed too.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.openapi_check import violations
from webapp.arena.services import proof_of_work
from webapp.core.openapi import document


@dataclass
class FuzzReport:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    by_operation: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return (
            f"api-fuzz: {self.requests} requests in {self.seconds:.1f} s "
            f"({self.requests / max(self.seconds, 1e-9):.0f}/s); 5xx: {len(self.server_errors)}; "
            f"schema violations: {len(self.violations)}; statuses: {statuses}"
        )


def _header(headers, name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return ""


def run(
    base_url: str,
    *,
    examples_per_operation: int,
    time_limit_s: float,
    target_requests: int = 0,
    seed: int = 12,
) -> FuzzReport:
    """Fuzz every operation, positive and negative, `examples_per_operation` cases each per
    pass; passes repeat (with new seeds) until `target_requests` are sent or time is up."""
    schema = schemathesis.openapi.from_dict(document())
    operations = [result.ok() for result in schema.get_all_operations()]
    report = FuzzReport()
    browser, voter = requests.Session(), requests.Session()
    challenge = voter.get(f"{base_url}/api/v1/voters/challenge", timeout=30).json()
    solution = proof_of_work.solve(challenge["nonce"], challenge["bits"])
    voter.post(
        f"{base_url}/api/v1/voters", json={"challenge": challenge["challenge"], "solution": solution}, timeout=30
    )
    rng = random.Random(seed)
    started = time.monotonic()
    deadline = started + time_limit_s

    def send(case) -> None:
        if time.monotonic() > deadline:
            return
        session = voter if case.operation.path.startswith(("/api/v1/votes", "/api/v1/battles/")) else browser
        if case.operation.path == "/api/v1/votes" and isinstance(case.body, dict) and rng.random() < 0.5:
            fresh = voter.get(f"{base_url}/api/v1/battles/next", timeout=30)
            report.requests += 1
            report.statuses[fresh.status_code] += 1
            if fresh.status_code == 200:
                case.body["token"] = fresh.json()["battle"]["token"]
        response = case.call(base_url=base_url, session=session, timeout=30)
        report.requests += 1
        report.statuses[response.status_code] += 1
        report.by_operation[f"{case.method} {case.operation.path}"] += 1
        where = f"{case.method} {case.formatted_path}"
        if response.status_code >= 500:
            report.server_errors.append(f"{where} -> {response.status_code}: {response.content[:200]!r}")
        problems = violations(
            case.formatted_path,
            case.method,
            response.status_code,
            _header(response.headers, "content-type"),
            response.content,
            template=case.operation.path,
        )
        report.violations += [f"{where}: {problem}" for problem in problems]

    passes = 0
    while time.monotonic() < deadline and (passes == 0 or report.requests < target_requests):
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if time.monotonic() > deadline:
                    break
                strategy = operation.as_strategy(generation_mode=mode)

                @settings(
                    max_examples=examples_per_operation,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                    derandomize=False,
                )
                @given(case=strategy)
                def fuzz(case) -> None:
                    send(case)

                try:
                    hypothesis_seed(seed + passes)(fuzz)()
                except Unsatisfiable:  # nothing to break: an operation without parameters or body
                    pass
        passes += 1
    report.seconds = time.monotonic() - started
    return report

"""Schema-driven fuzzing of the JSON API at benchmark scale: at least 10,000 generated
requests (schemathesis, positive and negative cases from webapp/core/openapi.json) against a
real gunicorn on PostgreSQL and Redis, then the counts: requests, statuses, 5xx and answers
that break the document. The target is 0 and 0.

    python benchmarks/api_fuzz.py [--requests 10000] [--time-limit 1800]

It runs tests/integration/test_api_fuzz.py through scripts/test.sh (its own database, Redis
prefix, gunicorn and arena with a computed board; PostgreSQL and Redis on 127.0.0.1 as the
test suite needs) with a larger budget, and prints the run's figures. Traffic goes only to the
gunicorn it starts on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000, help="keep fuzzing until this many were sent")
    parser.add_argument("--examples", type=int, default=250, help="cases per operation and mode in one pass")
    parser.add_argument("--time-limit", type=float, default=1800, help="stop after this many seconds")
    args = parser.parse_args(argv)
    env = {
        **os.environ,
        "API_FUZZ_TARGET_REQUESTS": str(args.requests),
        "API_FUZZ_EXAMPLES": str(args.examples),
        "API_FUZZ_TIME_LIMIT_S": str(args.time_limit),
    }
    command = ["bash", "scripts/test.sh", "tests/integration/test_api_fuzz.py", "-q", "-s", "-p", "no:cacheprovider"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    figures = [line for line in result.stdout.splitlines() if line.startswith("api-fuzz")]
    print("\n".join(figures) or result.stdout[-4000:])
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
    print(
        f"benchmark: target >= {args.requests} requests, 0 5xx, 0 schema violations -> {'met' if result.returncode == 0 else 'NOT met'}"
    )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())

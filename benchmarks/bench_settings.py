"""Settings for the gunicorn that benchmarks/vote_load.py starts: the product's settings, read
from the same environment, with only the URLconf swapped for benchmarks/bare_insert_urls.py
(the product's URLs plus one bare `bench/insert` endpoint). Same middleware, sessions, cache
and database, so the vote endpoint and the bare endpoint differ only in their view.

Benchmark-only knobs (experiments; the product's settings have no such switches):
  VOTEBENCH_DB_POOL=1          psycopg connection pool (Django 5.2 OPTIONS["pool"]); needs the
                               psycopg_pool package importable. The pool requires
                               CONN_MAX_AGE = 0, so persistent connections are turned off.
  VOTEBENCH_DB_POOL_SIZE=N     min_size = max_size of that pool per process (default 4).
  VOTEBENCH_CONN_HEALTH_CHECKS=0|1  override CONN_HEALTH_CHECKS (the product sets True on
                               PostgreSQL: one extra `SELECT 1` round trip per request).
  VOTEBENCH_DB_PREPARE=1       server-side binding + psycopg prepared statements
                               (OPTIONS server_side_binding=True, prepare_threshold=5): a query
                               run 5 times on a connection is no longer parsed and planned again.
"""

import os

from webapp.settings import *  # noqa: F403
from webapp.settings import DATABASES

ROOT_URLCONF = "benchmarks.bare_insert_urls"

_default = DATABASES["default"]
if os.environ.get("VOTEBENCH_CONN_HEALTH_CHECKS", "") in ("0", "1"):
    _default["CONN_HEALTH_CHECKS"] = os.environ["VOTEBENCH_CONN_HEALTH_CHECKS"] == "1"
if os.environ.get("VOTEBENCH_DB_PREPARE") == "1":
    _default.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
if os.environ.get("VOTEBENCH_DB_POOL") == "1":
    _size = int(os.environ.get("VOTEBENCH_DB_POOL_SIZE", "4"))
    _default["CONN_MAX_AGE"] = 0
    _default.setdefault("OPTIONS", {})["pool"] = {"min_size": _size, "max_size": _size, "timeout": 10}

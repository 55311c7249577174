"""What vote_load.py checks after the load (every acknowledged vote stored exactly once, replays
store nothing) and its in-process profile of one vote (--profile).
"""

from __future__ import annotations

import cProfile
import gc
import io
import itertools
import os
import pstats
import time
from collections import Counter

import httpx

from benchmarks.load_clients import (
    JSON_HEADERS,
    client_kwargs,
)

REPLAYS = 200


# --------------------------------------------------------------------------------------------
# Checks


def check_exactly_once(records, preflight_acked: set[int]) -> tuple[bool, str, set[int], int]:
    from django.db.models import Count

    from webapp.arena.models import Vote

    acked = set(preflight_acked)
    uncertain: set[int] = set()  # transport errors: the server may or may not have stored them
    answered_error: set[int] = set()
    n_acks = len(preflight_acked)
    for rec in records:
        for _t0, _lat, status, pk, _done in rec:
            if status == 201:
                acked.add(pk)
                n_acks += 1
            elif isinstance(status, int):
                answered_error.add(pk)
            else:
                uncertain.add(pk)
    stored_rows = Vote.objects.count()
    stored = set(Vote.objects.exclude(battle=None).values_list("battle_id", flat=True))
    duplicates = Vote.objects.exclude(battle=None).values("battle_id").annotate(n=Count("id")).filter(n__gt=1).count()
    missing = acked - stored
    unexplained = stored - acked - uncertain - answered_error
    stored_after_error = stored & answered_error
    ok = (
        n_acks == len(acked)
        and not missing
        and duplicates == 0
        and not unexplained
        and stored_rows == len(stored)
        and not stored_after_error
    )
    line = f"exactly once: {n_acks} acknowledged, {stored_rows} stored, {duplicates} duplicates"
    if missing or unexplained or uncertain or stored_after_error or n_acks != len(acked):
        line += (
            f"  [acked but missing {len(missing)}, stored but never acked {len(unexplained)}, "
            f"stored after an error answer {len(stored_after_error)}, transport errors {len(uncertain)} "
            f"({len(stored & uncertain)} of them stored), battles acked twice {n_acks - len(acked)}]"
        )
    return ok, line, acked, stored_rows


def replay_check(base, cookie_name, sessions, bodies, acked: set[int], timeout: float) -> tuple[bool, str]:
    from webapp.arena.models import Vote

    # round-robin over clients, so replays come from every voter
    picks = []
    queues = [[(i, pk, body) for pk, body in client if pk in acked] for i, client in enumerate(bodies)]
    for batch in itertools.zip_longest(*queues):
        picks.extend(p for p in batch if p is not None)
        if len(picks) >= REPLAYS:
            break
    picks = picks[:REPLAYS]
    before = Vote.objects.count()
    statuses: Counter = Counter()
    not_replay = 0
    clients = {}
    try:
        for i, _pk, body in picks:
            if i not in clients:
                clients[i] = httpx.Client(**client_kwargs(base, cookie_name, sessions[i], timeout))
            try:
                response = clients[i].post("/api/v1/votes", content=body, headers=JSON_HEADERS)
                statuses[response.status_code] += 1
                if response.status_code == 200 and response.json().get("vote", {}).get("replay") is not True:
                    not_replay += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
    finally:
        for client in clients.values():
            client.close()
    new_rows = Vote.objects.count() - before
    ok = len(picks) == REPLAYS and statuses == Counter({200: REPLAYS}) and new_rows == 0 and not_replay == 0
    answer = "200 OK" if statuses == Counter({200: len(picks)}) else ", ".join(f"{k}: {v}" for k, v in statuses.items())
    line = f"{len(picks)} replays -> {answer}, {new_rows} new rows"
    if not_replay:
        line += f", {not_replay} answers without replay=true"
    return ok, line


# --------------------------------------------------------------------------------------------
# In-process profile (--profile)


def profile_in_process(sessions_pk, cookie_name: str, n: int = 200) -> list[str]:
    """One vote and one bare INSERT through Django's WSGI handler in this process (no gunicorn,
    no HTTP): SQL statements, Redis commands, health checks, and CPU ms per request."""
    import redis
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import RequestFactory, override_settings
    from django.test.utils import CaptureQueriesContext

    session_key, battle_bodies = sessions_pk
    factory = RequestFactory()
    redis_calls = Counter()
    health = Counter()
    original_exec = redis.Redis.execute_command
    original_usable = connection.is_usable

    def counting_exec(self, *args, **kwargs):
        redis_calls[str(args[0]).split()[0].upper()] += 1
        return original_exec(self, *args, **kwargs)

    def counting_usable():
        health["SELECT 1"] += 1
        return original_usable()

    def call(handler, path, body):
        environ = factory.post(
            path,
            data=body,
            content_type="application/json",
            REMOTE_ADDR="127.0.0.1",
            HTTP_HOST="127.0.0.1",
            HTTP_COOKIE=f"{cookie_name}={session_key}",
        ).environ
        status = []
        chunks = handler(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(chunks)
        chunks.close()  # request_finished, as a WSGI server does
        return int(status[0].split()[0])

    timings: list[tuple[str, float]] = []
    original_commit = connection._commit

    def timing_wrapper(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((sql, time.perf_counter() - t0))

    def timed_commit():
        t0 = time.perf_counter()
        try:
            return original_commit()
        finally:
            timings.append(("COMMIT", time.perf_counter() - t0))

    lines = []
    redis.Redis.execute_command = counting_exec
    connection.is_usable = counting_usable
    connection._commit = timed_commit
    try:
        with override_settings(ROOT_URLCONF="benchmarks.bare_insert_urls"):
            handler = WSGIHandler()
            for label, path, items in (
                ("vote", "/api/v1/votes", battle_bodies),
                ("bare INSERT", "/bench/insert", battle_bodies),
            ):
                call(handler, path, items[0][1])  # warm: connection open, URLconf loaded
                redis_calls.clear()
                health.clear()
                timings.clear()
                with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timing_wrapper):
                    status = call(handler, path, items[1][1])
                lines.append(
                    f"  {label}: HTTP {status}, {len(ctx.captured_queries)} SQL statements "
                    f"(incl. BEGIN/COMMIT) "
                    f"+ {sum(health.values())} health-check SELECT 1, redis commands {dict(redis_calls) or 0}"
                )
                for sql, seconds in timings:  # wall time of each round trip (BEGIN goes out with the INSERT)
                    lines.append(f"      {1000 * seconds:6.3f} ms  {sql[:120]}{'...' if len(sql) > 120 else ''}")
                rest = items[2 : 2 + n]
                gc.collect()
                gc.freeze()  # this process holds every client's tokens: keep its GC passes out of the figure
                profiler = cProfile.Profile(time.process_time) if os.environ.get("VOTEBENCH_CPROFILE") else None
                c0, w0 = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                for _pk, body in rest:
                    call(handler, path, body)
                if profiler:
                    profiler.disable()
                c1, w1 = time.process_time(), time.perf_counter()
                if profiler:  # VOTEBENCH_CPROFILE=1: where the Python time goes, for experiments
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats(os.environ["VOTEBENCH_CPROFILE"]).print_stats(45)
                    lines.extend("      " + line for line in out.getvalue().splitlines() if line.strip())
                if rest:
                    lines.append(
                        f"      in-process over {len(rest)} requests: {1000 * (c1 - c0) / len(rest):.2f} ms "
                        f"CPU (this process, excl. postgres/redis), "
                        f"{1000 * (w1 - w0) / len(rest):.2f} ms wall"
                    )
    finally:
        redis.Redis.execute_command = original_exec
        connection.is_usable = original_usable
        connection._commit = original_commit
    return lines

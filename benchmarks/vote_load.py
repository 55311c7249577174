"""Load test of the vote endpoint (POST /api/v1/votes) on gunicorn + PostgreSQL + Redis, with a
bare one-INSERT Django endpoint on the same stack as the baseline.

Run: .venv/bin/python benchmarks/vote_load.py [--seconds 15] [--clients 32]
     (other knobs: --rate R (open loop), --workers W --threads T, --warmup S,
      --client-mode threads|async, --profile, --no-baseline, and server experiments
      --prepared-statements, --no-health-checks, --db-pool, --app; --help lists them all)

Issue target: >= 300 votes/s with p99 <= 100 ms under 32 concurrent clients on this machine,
every acknowledged vote stored exactly once, and the ratio to a bare Django endpoint doing one
INSERT on the same stack.

What it does:
* Scratch PostgreSQL database `screentest_votebench_<pid>` on 127.0.0.1:5432 (created through
  the maintenance database, dropped at the end), Redis db 0 with the key prefix
  `votebench-<pid>` (cache and broker; every key under it is deleted at the end), a temp
  DATA_DIR. The environment is set for this process and for the gunicorn it starts.
* Data: the catalog (load_catalog), prompts with one succeeded job + Clip row per model (no
  files: voting never opens them), one real Django session per client (the configured
  SESSION_ENGINE, cached_db with Redis), that session's voter key from voters.voter_for
  itself, and for each client enough Battle rows (distinct pair_key per voter) with signed
  tokens (battles.sign) that each battle is voted exactly once by design.
* gunicorn webapp.wsgi:application on a free 127.0.0.1 port, gthread workers (default 5
  workers x 1 thread, gunicorn's 2 x cores + 1: processes, not threads, because threads of
  one worker queue behind the GIL at every socket call - at 300 votes/s, 2 x 4 gave p99
  200-500 ms on the same machine; gthread and not sync so that clients keep their
  connections alive, as they would through nginx), its own process group, no control socket (gunicorn 27 would otherwise
  share ~/.gunicorn/gunicorn.ctl with every other gunicorn on the machine);
  DJANGO_SETTINGS_MODULE=benchmarks.bench_settings for the server (= webapp.settings with
  ROOT_URLCONF=benchmarks.bare_insert_urls: product URLs + the bare `bench/insert`), so both
  endpoints run in the same processes with the same middleware, one after the other.
* Load: --clients concurrent clients, by default threads with one keep-alive socket each
  sending pre-formatted HTTP/1.1 requests (0.15 ms of client CPU per request; httpx.Client
  took 1.5 ms, a quarter of the whole stack's CPU on a machine the server shares; --client-mode
  threads|async keeps httpx), each with its own sessionid cookie. Closed loop by default (next request when the last is
  answered; then mean latency = clients / throughput), or open loop with --rate (requests
  scheduled at a fixed total rate, latency counted from the scheduled time). --warmup seconds
  are excluded, then --seconds measured: throughput = 201s completed in the window, latency
  percentiles over the requests started (scheduled) in it, measured on the client (so they
  include the client's own scheduling delay). CPU use of the client, gunicorn, PostgreSQL and
  Redis comes from /proc, with the machine's total: other work on a shared machine shows up
  as "other processes", and CPU per request is the number least disturbed by it.
* Rate limits: VOTE_RATE_PER_MINUTE=1000000 (the per-voter Redis counter still runs, so its
  cost is measured) and VOTE_RATE_PER_IP_PER_MINUTE=0 (off: every client is 127.0.0.1).
  The rate limit is not what is measured here.
* Checks (exit status 1 when one fails; missing performance targets never fail the run):
  Vote rows == acknowledged 201s (every acknowledged battle has exactly one vote, no vote for
  a battle nobody sent), no duplicate per battle, and a replay of 200 already-voted battles
  answers 200 with replay=true and stores nothing; the per-pair tallies that triggers keep
  (arena_votetally) still equal a GROUP BY over the stored votes. Any 4xx/5xx answer to a
  valid vote fails.
* Teardown on every exit path (exceptions, Ctrl+C, SIGTERM): gunicorn killed by process
  group (also given PDEATHSIG), scratch database dropped, Redis keys deleted, temp dir
  removed. Only a SIGKILL of this script can leave the database behind.

Over ~400 lines on purpose: a sixth of it is this write-up; the stack, the clients, the data and
the checks live in scratch_stack.py, load_clients.py, vote_data.py and vote_checks.py.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402

from benchmarks.cpu_accounting import cpu_per_ok, format_cpu, machine_busy  # noqa: E402
from benchmarks.load_clients import (  # noqa: E402
    JSON_HEADERS,
    Phase,
    client_kwargs,
    detail_lines,
    make_sampler,
    run_load,
    summarize,
)
from benchmarks.scratch_stack import (  # noqa: E402
    Teardown,
    close_django_connections,
    create_database,
    make_env,
    start_gunicorn,
    tail,
)
from benchmarks.vote_checks import check_exactly_once, profile_in_process, replay_check  # noqa: E402
from benchmarks.vote_data import create_data  # noqa: E402

MAX_SECONDS = 60
MAX_CLIENTS = 256
# Battles made per client (closed loop): enough for this many votes/s over warm-up + window,
# times UNFAIRNESS, because one client can get several times its fair share (connections stick
# to the gunicorn worker that accepted them, and workers end up with unequal numbers of them).
# A client that runs out stops and the run says so.
BATTLE_RATE_CEILING = 600
UNFAIRNESS = 4
CLIENT_MODES = {
    "raw": "one keep-alive socket per thread, pre-formatted HTTP/1.1 requests",
    "threads": "one httpx.Client per thread",
    "async": "one httpx.AsyncClient per task",
}


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help=f"measured window (default 15, cap {MAX_SECONDS})")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up before each window, excluded (default 3)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument(
        "--workers", type=int, default=5, help="gunicorn worker processes (default 5: gunicorn's 2 x cores + 1)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker (default 1: at 300 votes/s, 2 workers x 4 threads "
        "queue behind the GIL - p99 200-500 ms where 5 x 1 gives ~50 ms)",
    )
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class (default gthread)")
    parser.add_argument(
        "--app",
        default="webapp.wsgi:application",
        help="WSGI app for gunicorn (default webapp.wsgi:application; for experiments)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="open loop: offer this many requests/s in total, latency counted from each "
        "request's scheduled time (default 0: closed loop, each client sends its next "
        "request when the last one is answered)",
    )
    parser.add_argument(
        "--client-mode",
        choices=("raw", "threads", "async"),
        default="raw",
        help="load generator: threads with one keep-alive socket each and pre-formatted "
        "requests (raw, default: least client CPU on a machine shared with the server), "
        "threads + httpx.Client each, or asyncio + httpx.AsyncClient",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="client request timeout in seconds")
    parser.add_argument(
        "--battles-per-client",
        type=int,
        default=0,
        help=f"battles made per client (default: {UNFAIRNESS} x {BATTLE_RATE_CEILING}/s x run time "
        f"/ clients, or what --rate schedules)",
    )
    parser.add_argument(
        "--db-pool",
        action="store_true",
        help="serve with Django's psycopg pool (needs psycopg_pool importable; see benchmarks/bench_settings.py)",
    )
    parser.add_argument("--no-health-checks", action="store_true", help="serve with CONN_HEALTH_CHECKS=False")
    parser.add_argument(
        "--prepared-statements",
        action="store_true",
        help="serve with server-side binding + psycopg prepared statements (prepare_threshold 5)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare INSERT run")
    parser.add_argument(
        "--profile", action="store_true", help="also count SQL/Redis calls per request and CPU per request in-process"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds must be in 1..{MAX_SECONDS}")
    if not 0 <= args.warmup <= 30:
        parser.error("--warmup must be in 0..30")
    if not 0 <= args.rate <= 5000:
        parser.error("--rate must be in 0..5000")
    if not 1 <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be in 1..{MAX_CLIENTS}")
    if not (1 <= args.workers <= 64 and 1 <= args.threads <= 64):
        parser.error("--workers and --threads must be in 1..64")
    return args


def run(args, td: Teardown) -> int:
    env = make_env(args, td.dbname, td.prefix, td.tmpdir)
    os.environ.update(env)
    server_env = dict(os.environ, DJANGO_SETTINGS_MODULE="benchmarks.bench_settings")
    if args.db_pool:
        server_env.update(VOTEBENCH_DB_POOL="1", VOTEBENCH_DB_POOL_SIZE=str(args.threads))
        probe = subprocess.run([sys.executable, "-c", "import psycopg_pool"], env=server_env, capture_output=True)
        if probe.returncode != 0:
            raise SystemExit(
                "--db-pool: psycopg_pool is not importable (pip install 'psycopg[pool]', "
                "or put it on PYTHONPATH for this run)"
            )
    if args.no_health_checks:
        server_env["VOTEBENCH_CONN_HEALTH_CHECKS"] = "0"
    if args.prepared_statements:
        server_env["VOTEBENCH_DB_PREPARE"] = "1"

    t_setup = time.perf_counter()
    create_database(td)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_insert (id bigserial primary key, body text, created_at timestamptz default now())"
        )
    if args.battles_per_client:
        per_client = args.battles_per_client
    elif args.rate:  # open loop: the schedule says exactly how many
        per_client = math.ceil(1.1 * args.rate * (args.seconds + args.warmup + 1) / args.clients)
    else:  # closed loop: gunicorn does not share itself fairly between keep-alive connections
        per_client = math.ceil(UNFAIRNESS * BATTLE_RATE_CEILING * (args.seconds + args.warmup) / args.clients)
    per_client += 1  # battle 0 of every client: the pre-flight vote
    n_extra = 1 if args.profile else 0
    sessions, bodies, _voters, n_models, n_prompts = create_data(args.clients + n_extra, per_client, args.seed)
    profile_material = (sessions.pop(), bodies.pop()) if args.profile else None
    cookie = settings.SESSION_COOKIE_NAME
    print(
        f"setup: database {td.dbname}, redis prefix {td.prefix}, {n_models} models x {n_prompts} prompts, "
        f"{args.clients} sessions ({settings.SESSION_ENGINE.rsplit('.', 1)[-1]}), {per_client} battles each "
        f"({args.clients * per_client} signed tokens), {time.perf_counter() - t_setup:.1f} s"
    )
    close_django_connections()

    log_path = td.tmpdir / "gunicorn.log"
    proc, base, shown = start_gunicorn(args, server_env, td, log_path)
    db = settings.DATABASES["default"]
    conn_desc = (
        f"psycopg pool {args.threads}/process, CONN_MAX_AGE 0"
        if args.db_pool
        else f"CONN_MAX_AGE {db.get('CONN_MAX_AGE')}"
    )
    health = "off" if args.no_health_checks else str(db.get("CONN_HEALTH_CHECKS", False)).lower()
    prepared = ", prepared statements (server-side binding)" if args.prepared_statements else ""
    print(
        f"gunicorn: {' '.join(shown)}  ({args.workers * args.threads} request threads, {conn_desc}, "
        f"CONN_HEALTH_CHECKS {health}{prepared}; DJANGO_SETTINGS_MODULE=benchmarks.bench_settings)"
    )
    shape = (
        f"open loop at {args.rate:g} req/s offered, latency from the scheduled send time"
        if args.rate
        else "closed loop: next request when the last is answered"
    )
    print(
        f"load: {args.clients} clients ({args.client_mode}: "
        f"{CLIENT_MODES[args.client_mode]}, "
        f"keep-alive; {shape}), warm-up {args.warmup:g} s excluded, window {args.seconds:g} s; "
        f"VOTE_RATE_PER_MINUTE=1000000 (per-voter Redis counter still runs), VOTE_RATE_PER_IP_PER_MINUTE=0 "
        f"(off: all clients are 127.0.0.1) - the rate limit is not what is measured"
    )

    failures = []
    # Pre-flight: every client's battle 0, sequentially - proves each cookie maps to its voter.
    preflight_acked = set()
    for i, session_key in enumerate(sessions):
        with httpx.Client(**client_kwargs(base, cookie, session_key, args.timeout)) as client:
            pk, body = bodies[i][0]
            response = client.post("/api/v1/votes", content=body, headers=JSON_HEADERS)
            if response.status_code != 201:
                raise RuntimeError(
                    f"pre-flight vote of client {i} answered {response.status_code}: "
                    f"{response.text[:300]}\n{tail(log_path)}"
                )
            preflight_acked.add(pk)
    load_bodies = [client[1:] for client in bodies]
    sampler = make_sampler(proc.pid, td.dbname)

    busy, total = machine_busy(1.0)
    print(
        f"machine: {round(total)} cores, {busy:.2f} busy in the second before the run "
        f"(other work on the machine skews every number below)"
    )
    phase = Phase(args.warmup, args.seconds, args.rate, args.clients)
    records, samples, exhausted, cpu = run_load(
        args.client_mode, base, "/api/v1/votes", cookie, sessions, load_bodies, phase, args.timeout, sampler
    )
    vote = summarize(records, phase, args.seconds)
    print(
        f"vote endpoint: {vote['rate']:.0f} votes/s  p50 {vote['p50']:.0f} ms  p95 {vote['p95']:.0f} ms  "
        f"p99 {vote['p99']:.0f} ms  max {vote['max']:.0f} ms  (target >= 300/s, p99 <= 100 ms: "
        f"{'met' if vote['rate'] >= 300 and vote['p99'] <= 100 else 'NOT met'})"
    )
    for line in detail_lines(vote, args):
        print(line)
    for line in format_cpu(cpu, vote["rate"]):
        print(line)
    for status, texts in samples.items():
        print(f"  sample answer {status}: {texts[0]}")
    if not args.rate:
        print(
            f"  note: closed loop, so mean latency = {args.clients} clients / throughput (Little's law); "
            f"p99 <= 100 ms with {args.clients} clients needs well over {args.clients / 0.1:.0f}/s. "
            f"--rate 300 measures latency at the target rate instead"
        )
    if any(exhausted):
        print(
            f"  WARNING: {sum(exhausted)} clients ran out of battles before the end of the window "
            f"(raise --battles-per-client); the rate above is a lower bound"
        )
    bad_answers = sum(
        v for k, v in Counter(r[2] for rec in records for r in rec).items() if isinstance(k, int) and k != 201
    )
    if bad_answers:
        failures.append(f"{bad_answers} valid votes answered with an error status")

    ok_once, once_line, acked, _stored = check_exactly_once(records, preflight_acked)
    ok_replay, replay_line = replay_check(base, cookie, sessions, load_bodies, acked, args.timeout)
    if not ok_once:
        failures.append("exactly-once check")
    if not ok_replay:
        failures.append("replay check")
    from webapp.arena.services import tallies

    drift = tallies.drift()  # the triggers under 32 concurrent voters: still equal to the votes
    tally_line = (
        "tallies equal a GROUP BY over the votes" if not drift else f"{len(drift)} tally rows DIFFER from the votes"
    )
    if drift:
        failures.append("tally check")

    bare = None
    if not args.no_baseline:
        # The same clients, cookies, bodies and load shape, against /bench/insert.
        cycle_bodies = []
        for client in load_bodies:
            limit = int(2000 * (args.seconds + args.warmup))  # bounded; far above 2 cores' pace
            cycle_bodies.append(itertools.islice(itertools.cycle(client), limit))
        phase = Phase(args.warmup, args.seconds, args.rate, args.clients)
        b_records, b_samples, _, b_cpu = run_load(
            args.client_mode, base, "/bench/insert", cookie, sessions, cycle_bodies, phase, args.timeout, sampler
        )
        bare = summarize(b_records, phase, args.seconds)
        print(
            f"bare INSERT endpoint: {bare['rate']:.0f} req/s  p50 {bare['p50']:.0f} ms  p95 {bare['p95']:.0f} ms  "
            f"p99 {bare['p99']:.0f} ms  max {bare['max']:.0f} ms"
        )
        for line in detail_lines(bare, args):
            print(line)
        for line in format_cpu(b_cpu, bare["rate"]):
            print(line)
        for status, texts in b_samples.items():
            print(f"  sample answer {status}: {texts[0]}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM bench_insert")
            (rows,) = cursor.fetchone()
        acks = sum(1 for rec in b_records for r in rec if r[2] == 201)
        if rows != acks:
            print(f"  bare INSERT rows {rows} != 201 answers {acks}")
        print(
            f"ratio vote/bare: throughput {vote['rate'] / bare['rate']:.2f}  p99 {vote['p99'] / bare['p99']:.1f}"
            f"  p50 {vote['p50'] / bare['p50']:.1f}  (CPU per request, all processes: vote "
            f"{cpu_per_ok(cpu, vote['rate']):.1f} ms / bare {cpu_per_ok(b_cpu, bare['rate']):.1f} ms -> "
            f"throughput ratio {cpu_per_ok(b_cpu, bare['rate']) / cpu_per_ok(cpu, vote['rate']):.2f} "
            f"independent of other load)"
        )

    print(f"{once_line}; {replay_line}; {tally_line}")
    if profile_material:
        print("profile (in-process, Django WSGI handler, no gunicorn/HTTP):")
        for line in profile_in_process(profile_material, cookie):
            print(line)
    errors = "\n".join(
        line for line in tail(log_path, 200).splitlines() if "Method Not Allowed: /api/v1/votes" not in line
    )  # the readiness probe
    errors = "\n".join(errors.splitlines()[-10:])
    if errors.strip():
        print(f"gunicorn log tail:\n{errors}")
    if failures:
        print(f"CORRECTNESS FAILURES: {'; '.join(failures)}")
        return 1
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    pid = os.getpid()
    tmpdir = Path(tempfile.mkdtemp(prefix=f"votebench-{pid}-"))
    td = Teardown(f"screentest_votebench_{pid}", f"votebench-{pid}", tmpdir)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    rc = 2
    try:
        rc = run(args, td)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        rc = 130
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        rc = 2
    except Exception:
        import traceback

        traceback.print_exc()
        rc = 2
    finally:
        td.run()
    return rc


if __name__ == "__main__":
    sys.exit(main())

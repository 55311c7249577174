"""(c) The database unreachable for a few seconds during voting: gunicorn reaches PostgreSQL
through a TCP proxy started here; for the outage the proxy cuts every open connection and
closes each new one at once. Clients vote throughout; every vote answered 201 must be stored,
an outage must answer 503 with Retry-After (JSON under /api/), and every vote refused during
the outage is sent again afterwards."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from types import SimpleNamespace

import httpx

from benchmarks.scratch_stack import close_django_connections, start_gunicorn


class Proxy:
    """127.0.0.1:<port> -> 127.0.0.1:5432, in a thread; `down` cuts everything."""

    def __init__(self, target_port: int = 5432):
        self.target_port = target_port
        self.down = False
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        if not started.wait(10):
            raise RuntimeError("the proxy did not start")

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()

    async def _client(self, reader, writer) -> None:
        if self.down:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    def set_down(self, down: bool) -> None:
        def apply():
            self.down = down
            if down:
                for w in list(self.writers):
                    w.transport.abort()
                self.writers.clear()

        self.loop.call_soon_threadsafe(apply)


def db_outage(args, stack, verdict_unused=None) -> bool:
    from django.conf import settings

    from benchmarks.vote_data import create_data
    from webapp.arena.models import Vote

    n_clients = 4
    sessions, bodies, _voters, _m, _p = create_data(n_clients, 400, args.seed)
    close_django_connections()
    proxy = Proxy()
    server_env = {**stack.env, "DATABASE_URL": stack.env["DATABASE_URL"].replace(":5432/", f":{proxy.port}/")}
    gargs = SimpleNamespace(app="webapp.wsgi:application", workers=2, threads=2, worker_class="gthread")
    _proc, base, _shown = start_gunicorn(gargs, server_env, stack.td, stack.logs / "gunicorn.log")
    results: list[tuple[int, int | str, float, str | None, str]] = []  # battle, status, time, Retry-After, type
    stop_at = time.monotonic() + args.outage_s + 10
    lock = threading.Lock()

    def client(c: int) -> None:
        with httpx.Client(base_url=base, cookies={settings.SESSION_COOKIE_NAME: sessions[c]}, timeout=10) as http:
            for battle, body in bodies[c]:
                if time.monotonic() > stop_at:
                    break
                try:
                    r = http.post("/api/v1/votes", content=body, headers={"Content-Type": "application/json"})
                    row = (
                        battle,
                        r.status_code,
                        time.monotonic(),
                        r.headers.get("Retry-After"),
                        r.headers.get("Content-Type", ""),
                    )
                except httpx.HTTPError as exc:
                    row = (battle, type(exc).__name__, time.monotonic(), None, "")
                with lock:
                    results.append(row)
                time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    time.sleep(5)
    proxy.set_down(True)
    down_at = time.monotonic()
    time.sleep(args.outage_s)
    proxy.set_down(False)
    up_at = time.monotonic()
    for t in threads:
        t.join(timeout=60)
    during = Counter(str(s) for _b, s, at, _ra, _ct in results if down_at <= at <= up_at)
    acked = {b for b, s, *_ in results if s in (200, 201)}
    refused = {b for b, s, *_ in results if s not in (200, 201)}
    bad_503 = [(s, ra, ct) for _b, s, _at, ra, ct in results if s == 503 and (not ra or "json" not in ct)]
    errors_500 = sum(1 for _b, s, *_ in results if s == 500)
    first_ok = min((at for _b, s, at, *_ in results if at > up_at and s in (200, 201)), default=None)
    acked_first = len(acked)
    # every vote refused in the outage is sent once more
    by_battle = {b: body for c in range(n_clients) for b, body in bodies[c]}
    owner = {b: c for c in range(n_clients) for b, _ in bodies[c]}
    resent = Counter()
    for b in sorted(refused):
        with httpx.Client(
            base_url=base, cookies={settings.SESSION_COOKIE_NAME: sessions[owner[b]]}, timeout=10
        ) as http:
            r = http.post("/api/v1/votes", content=by_battle[b], headers={"Content-Type": "application/json"})
            resent[r.status_code] += 1
            if r.status_code in (200, 201):
                acked.add(b)
    stored = set(Vote.objects.filter(battle_id__in=acked).values_list("battle_id", flat=True))
    lost = acked - stored
    print(
        f"[db-outage] {len(results)} votes sent, {acked_first} acknowledged at once, {len(acked)} with the re-sends; "
        f"{len(lost)} acknowledged votes lost"
    )
    print(
        f"[db-outage] during the {args.outage_s:g} s outage: {dict(during)}; 500s {errors_500}; 503 without Retry-After or JSON {len(bad_503)}"
    )
    print(f"[db-outage] re-sent after the outage: {dict(resent)}")
    print(f"[db-outage] outage end -> first vote stored: {first_ok and f'{first_ok - up_at:.2f} s'}")
    if "503" not in during:
        print("[db-outage] no 503 seen during the outage")
    return not lost and not errors_500 and not bad_503 and "503" in during and set(resent) <= {200, 201}

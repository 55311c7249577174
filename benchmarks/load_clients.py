"""Load generators for vote_load.py: closed- or open-loop clients (raw keep-alive sockets with
pre-formatted HTTP/1.1 requests, or httpx threads/async), and the summary of what they saw.
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections import Counter

import httpx

from benchmarks.cpu_accounting import cpu_report, cpu_snapshot

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


# --------------------------------------------------------------------------------------------
# Load generator


class Phase:
    """Timeline of one load run. With rate > 0 (open loop) client i of n sends its k-th
    request at begin + (k + i/n) * n/rate, or at once when it is behind; latency is then
    counted from that scheduled time (no coordinated omission)."""

    def __init__(self, warmup: float, seconds: float, rate: float = 0.0, clients: int = 1):
        self.begin = time.perf_counter() + 0.3
        self.warm_end = self.begin + warmup
        self.end = self.warm_end + seconds
        self.interval = clients / rate if rate > 0 else 0.0
        self.clients = clients

    def start_time(self, i: int, k: int) -> tuple[float, float]:
        """(when to send, t0 for the latency) of client i's k-th request."""
        now = time.perf_counter()
        if not self.interval:
            return now, now
        scheduled = self.begin + (k + i / self.clients) * self.interval
        return max(now, scheduled), scheduled


def client_kwargs(base: str, cookie_name: str, session_key: str, timeout: float) -> dict:
    return dict(
        base_url=base,
        cookies={cookie_name: session_key},
        timeout=timeout,
        trust_env=False,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


def run_load(
    mode: str,
    base: str,
    path: str,
    cookie_name: str,
    sessions: list[str],
    bodies: list,
    phase: Phase,
    timeout: float,
    sampler,
) -> tuple[list[list[tuple]], dict, list[bool], tuple]:
    """bodies[i] is client i's list of (battle pk, body). Returns per-client records
    (t_start, latency_s, status, battle pk), samples of non-201 answers, exhausted flags and
    the CPU use over the window."""
    if mode in ("raw", "threads"):
        client_class = RawHTTPClient if mode == "raw" else HttpxClient
        return _run_threads(client_class, base, path, cookie_name, sessions, bodies, phase, timeout, sampler)
    return asyncio.run(_run_async(base, path, cookie_name, sessions, bodies, phase, timeout, sampler))


def _record_error(samples: dict, status, text: str) -> None:
    if len(samples.setdefault(status, [])) < 3:
        samples[status].append(text[:300])


class HttpxClient:
    """One httpx.Client with the session cookie and a single keep-alive connection."""

    errors = (httpx.HTTPError,)

    def __init__(self, base: str, cookie_name: str, session_key: str, timeout: float):
        self.client = httpx.Client(**client_kwargs(base, cookie_name, session_key, timeout))

    def post(self, path: str, body: bytes) -> tuple[int, str]:
        response = self.client.post(path, content=body, headers=JSON_HEADERS)
        return response.status_code, response.text

    def close(self) -> None:
        self.client.close()


class RawHTTPClient:
    """Keep-alive HTTP/1.1 over one socket, requests pre-formatted as bytes: the load generator
    shares the machine's two cores with the server, and httpx spends ~1.5 ms of CPU per request
    here (a quarter of the whole stack's), this ~0.1 ms. Reads Content-Length bodies only (what
    Django answers with); anything else raises, and the caller counts a transport error."""

    def __init__(self, base: str, cookie_name: str, session_key: str, timeout: float):
        host_port = base.split("://", 1)[1]
        host, port = host_port.rsplit(":", 1)
        self.address, self.timeout = (host, int(port)), timeout
        self.head = (
            f"Host: {host_port}\r\nCookie: {cookie_name}={session_key}\r\n"
            f"Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode()
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    errors = (OSError, ValueError, KeyError, IndexError)

    def post(self, path: str, body: bytes) -> tuple[int, str]:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.sendall(
                b"POST "
                + path.encode()
                + b" HTTP/1.1\r\n"
                + self.head
                + b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            while b"\r\n\r\n" not in self.buffer:
                self._read()
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            headers = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            length = int({k.strip().lower(): v for k, v in headers.items()}[b"content-length"])
            while len(rest) < length:
                rest += self._read(into_buffer=False)
            self.buffer = rest[length:]
            return status, rest[:length].decode(errors="replace")
        except BaseException:
            self.close()
            raise

    def _read(self, into_buffer: bool = True) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        if into_buffer:
            self.buffer += chunk
        return chunk


def _run_threads(client_class, base, path, cookie_name, sessions, bodies, phase, timeout, sampler):
    """One thread per client, each with its own ``client_class`` connection."""
    n = len(sessions)
    records: list[list[tuple]] = [[] for _ in range(n)]
    samples: dict = {}
    exhausted = [False] * n
    lock = threading.Lock()

    def worker(i: int) -> None:
        rec = records[i]
        client = client_class(base, cookie_name, sessions[i], timeout)
        delay = phase.begin - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            for k, (pk, body) in enumerate(bodies[i]):
                send_at, t0 = phase.start_time(i, k)
                if send_at >= phase.end:  # also stops an open-loop client that fell behind
                    break
                delay = send_at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                try:
                    status, text = client.post(path, body)
                    if status != 201:
                        with lock:
                            _record_error(samples, status, text)
                except client_class.errors as exc:
                    status = type(exc).__name__
                    with lock:
                        _record_error(samples, status, repr(exc))
                done = time.perf_counter()
                rec.append((t0, done - t0, status, pk, done))
            else:
                exhausted[i] = True
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"client-{i}") for i in range(n)]
    for t in threads:
        t.start()
    cpu = sampler(phase)
    for t in threads:
        t.join(timeout=max(1.0, phase.end - time.perf_counter()) + timeout + 10)
    return records, samples, exhausted, cpu


async def _run_async(base, path, cookie_name, sessions, bodies, phase, timeout, sampler):
    n = len(sessions)
    records: list[list[tuple]] = [[] for _ in range(n)]
    samples: dict = {}
    exhausted = [False] * n

    async def one(i: int) -> None:
        rec = records[i]
        async with httpx.AsyncClient(**client_kwargs(base, cookie_name, sessions[i], timeout)) as client:
            delay = phase.begin - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            for k, (pk, body) in enumerate(bodies[i]):
                send_at, t0 = phase.start_time(i, k)
                if send_at >= phase.end:  # also stops an open-loop client that fell behind
                    break
                delay = send_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    response = await client.post(path, content=body, headers=JSON_HEADERS)
                    status = response.status_code
                    if status != 201:
                        _record_error(samples, status, response.text)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                    _record_error(samples, status, repr(exc))
                done = time.perf_counter()
                rec.append((t0, done - t0, status, pk, done))
            else:
                exhausted[i] = True

    loop = asyncio.get_running_loop()
    sampling = loop.run_in_executor(None, sampler, phase)  # sleeps in a thread, not in the loop
    await asyncio.gather(*(one(i) for i in range(n)))
    return records, samples, exhausted, await sampling


def make_sampler(server_pgid: int, dbname: str):
    def sample(phase: Phase):
        delay = phase.warm_end - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        before = cpu_snapshot(server_pgid, dbname)
        delay = phase.end - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        after = cpu_snapshot(server_pgid, dbname)
        return cpu_report(before, after)

    return sample


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def summarize(records: list[list[tuple]], phase: Phase, seconds: float) -> dict:
    """Throughput: 201s completed inside the window. Latency: requests started (closed loop) or
    scheduled (open loop) inside the window. Unsent: open-loop requests scheduled inside the
    window that were never sent because the client was still waiting on earlier answers."""
    window = [r for rec in records for r in rec if phase.warm_end <= r[0] < phase.end]
    latencies = sorted(r[1] for r in window)
    statuses = Counter(r[2] for r in window)
    ok = sum(1 for rec in records for r in rec if r[2] == 201 and phase.warm_end <= r[4] < phase.end)
    per_client = sorted(sum(1 for r in rec if r[2] == 201 and phase.warm_end <= r[4] < phase.end) for rec in records)
    unsent = 0
    if phase.interval:
        for i, rec in enumerate(records):
            offset = phase.begin + i / phase.clients * phase.interval
            first = max(0, math.ceil((phase.warm_end - offset) / phase.interval))
            last = math.ceil((phase.end - offset) / phase.interval)  # exclusive
            unsent += max(0, last - first - sum(1 for r in rec if phase.warm_end <= r[0] < phase.end))
    return {
        "ok": ok,
        "rate": ok / seconds,
        "n": len(window),
        "statuses": statuses,
        "unsent": unsent,
        "per_client": ((per_client[0], per_client[len(per_client) // 2], per_client[-1]) if per_client else (0, 0, 0)),
        "mean": (sum(latencies) / len(latencies) * 1000) if latencies else float("nan"),
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": (latencies[-1] * 1000) if latencies else float("nan"),
    }


def detail_lines(summary: dict, args) -> list[str]:
    low, mid, high = summary["per_client"]
    lines = [
        f"  {summary['n']} requests in the window, mean {summary['mean']:.0f} ms, errors by status: "
        f"{format_statuses(summary['statuses'])}; 201s per client min/median/max {low}/{mid}/{high}"
    ]
    if args.rate:
        # a few slots at the window's edge are always late; a backlog means the server fell behind
        if summary["unsent"] > max(args.clients, 0.01 * args.rate * args.seconds):
            lines.append(
                f"  OVERLOADED: offered {args.rate:g}/s, served {summary['rate']:.0f}/s; {summary['unsent']} "
                f"requests scheduled in the window were never sent (clients still waiting on earlier "
                f"answers): latency grows without bound, the percentiles cover only the requests sent"
            )
        else:
            lines.append(
                f"  offered {args.rate:g}/s, kept up ({summary['unsent']} requests scheduled in the last "
                f"moments of the window not sent before its end)"
            )
    return lines


def format_statuses(statuses: Counter) -> str:
    bad = {k: v for k, v in statuses.items() if k != 201}
    return "none" if not bad else ", ".join(f"{k}: {v}" for k, v in sorted(bad.items(), key=str))

"""What every fake vendor server shares: a threaded http.server on 127.0.0.1, request
recording, job bookkeeping with a poll-driven state progression, injectable faults, and a
real small MP4 (made with ffmpeg) served from URLs that point back at the fake.

Each fake answers under its vendor's real hostnames: `api_host` for the API and `media_host`
for output files (the hosts the vendor documents, docs/backends.md). Workers reach them
because SCREENTEST_TEST_RESOLVE maps those names to 127.0.0.1 (test-only, loopback-only), so
the adapters run with their real default download hosts.

Fault injection, three ways:
- magic words in the prompt: [[policy]] (refused at create), [[policy-async]] (job fails on
  policy), [[fail]] (job fails otherwise), [[truncated]], [[not-video]], [[expired]],
  [[redirect-internal]], [[redirect]] (a same-host redirect, allowed);
- `fake.flag_next_job("policy-async", ...)`: the same flags for the next job created, whatever
  its prompt (one prompt sent to every fake, one fake misbehaving);
- `fake.fail_next(status, body=..., headers=..., times=1, method=..., path=...)`: the next
  matching requests get that answer instead (429 with Retry-After, 5xx then success, 401...);
  over HTTP: POST /__fake__/next_error {"status", "body", "headers", "times", "method", "path"}.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAGIC = (
    "policy-async",
    "policy",
    "fail",
    "bad-output",
    "truncated",
    "not-video",
    "expired",
    "redirect-internal",
    "redirect",
)
_MP4_LOCK = threading.Lock()
_MP4: bytes | None = None


def fake_mp4() -> bytes:
    """A real, small H.264 MP4 (1 s, 320x180), made once per process."""
    global _MP4
    with _MP4_LOCK:
        if _MP4 is None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "fake.mp4"
                subprocess.run(
                    [
                        "ffmpeg",
                        "-v",
                        "error",
                        "-y",
                        "-f",
                        "lavfi",
                        "-i",
                        "testsrc2=size=320x180:rate=24:duration=1",
                        "-c:v",
                        "libx264",
                        "-preset",
                        "ultrafast",
                        "-pix_fmt",
                        "yuv420p",
                        "-movflags",
                        "+faststart",
                        str(path),
                    ],
                    check=True,
                    timeout=60,
                    capture_output=True,
                )
                _MP4 = path.read_bytes()
        return _MP4


def flags_in(prompt: str) -> set[str]:
    found = set()
    for word in MAGIC:
        if f"[[{word}]]" in (prompt or ""):
            found.add(word)
    return found


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Fault:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    method: str | None = None
    path: str | None = None  # a regex searched in the path
    raw: bytes | None = None  # sent as is: a malformed answer (cut-off JSON, an HTML error page)
    # The request is handled (a create makes its job, as the vendor would), then the connection
    # is closed without an answer: a create whose answer was lost on the way back.
    lose_answer: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or re.search(self.path, path))


@dataclass
class FakeJob:
    id: str
    prompt: str
    flags: set[str]
    request: Any
    polls: int = 0
    cancelled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    truncate_to: int | None = None  # send fewer bytes than Content-Length says, then close
    lost: bool = False  # close the connection without answering


Handler = Callable[..., Reply]


class FakeVendor:
    """Subclasses register routes in `routes()` and decide state in `state_of(job)`."""

    name = "vendor"
    api_host = "127.0.0.1"  # the vendor's API hostname, answered by this fake in tests
    media_host = ""  # where the vendor serves output files ("" = the API host)
    queued_polls = 1  # polls answered "queued" before "running"
    # The output file every job gets (None: the shared small sample): the blindness tests give
    # each vendor a video of its own resolution, frame rate, duration, sound and encoder.
    output_video: bytes | None = None
    running_polls = 1  # polls answered "running" before the terminal state

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.recorded: list[Recorded] = []
        self.jobs: dict[str, FakeJob] = {}
        self.faults: list[Fault] = []
        self.next_job_flags: list[str] = []
        self.always_flags: set[str] = set()  # applied to every job this fake creates
        self.flags_for: dict[str, set[str]] = {}  # per model (or version) id, where the fake knows it
        self.internal_redirect_target = "http://169.254.169.254/latest/meta-data/"
        self.lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None
        self._routes = [(method, re.compile(pattern + r"\Z"), handler) for method, pattern, handler in self.routes()]

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeVendor:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer((self.host, self.port), RequestHandler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def vendor_url(self) -> str:
        """The fake under the vendor's own API hostname (what workers are pointed at)."""
        return f"http://{self.api_host}:{self.port}"

    @property
    def media_origin(self) -> str:
        return f"http://{self.media_host or self.api_host}:{self.port}"

    # --- test controls ---------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        raw: bytes | None = None,
        lose_answer: bool = False,
    ) -> None:
        with self.lock:
            self.faults.append(Fault(status, body, headers or {}, times, method, path, raw, lose_answer))

    def flag_next_job(self, *flags: str) -> None:
        with self.lock:
            self.next_job_flags.extend(flags)

    def requests_to(self, pattern: str, method: str | None = None) -> list[Recorded]:
        return [r for r in self.recorded if re.search(pattern, r.path) and (method is None or r.method == method)]

    # --- what subclasses implement ---------------------------------------------------------
    def routes(self) -> list[tuple[str, str, Handler]]:
        return []

    def authorized(self, req: Recorded) -> Reply | None:
        """None when the request's credentials are good, else the vendor's error reply."""
        return None

    # --- shared helpers --------------------------------------------------------------------
    def new_job(self, prompt: str, request: Any, job_id: str | None = None, *, model: str = "") -> FakeJob:
        with self.lock:
            flags = flags_in(prompt) | set(self.next_job_flags) | self.always_flags | self.flags_for.get(model, set())
            self.next_job_flags.clear()
            job = FakeJob(id=job_id or str(uuid.uuid4()), prompt=prompt, flags=flags, request=request)
            self.jobs[job.id] = job
            return job

    def advance(self, job: FakeJob) -> str:
        """queued -> running -> done|failed|policy, one step per poll."""
        with self.lock:
            job.polls += 1
            if job.cancelled:
                return "cancelled"
            if job.polls <= self.queued_polls:
                return "queued"
            if job.polls <= self.queued_polls + self.running_polls:
                return "running"
            if "policy-async" in job.flags:
                return "policy"
            if "bad-output" in job.flags:
                return "bad-output"
            if "fail" in job.flags:
                return "failed"
            return "done"

    def media_url(self, job: FakeJob) -> str:
        return f"{self.media_origin}/__media__/{job.id}.mp4"

    def media_reply(self, job: FakeJob | None) -> Reply:
        if job is None:
            return Reply(404, {"error": "not found"})
        data = self.output_video if self.output_video is not None else fake_mp4()
        if "expired" in job.flags:
            return Reply(
                403,
                raw=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                headers={"Content-Type": "application/xml"},
            )
        if "not-video" in job.flags:
            return Reply(
                200, raw=b"<html><body>Sign in to continue</body></html>" * 20, headers={"Content-Type": "text/html"}
            )
        if "redirect-internal" in job.flags:
            return Reply(302, headers={"Location": self.internal_redirect_target})
        if "truncated" in job.flags:
            return Reply(200, raw=data, headers={"Content-Type": "video/mp4"}, truncate_to=len(data) // 3)
        return Reply(200, raw=data, headers={"Content-Type": "video/mp4"})

    def _media(self, req: Recorded, job_id: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is not None and "redirect" in job.flags and "redirected" not in req.query:
            return Reply(302, headers={"Location": f"/__media__/{job_id}.mp4?redirected=1"})
        return self.media_reply(job)

    # --- plumbing --------------------------------------------------------------------------
    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        req = Recorded(
            handler.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in handler.headers.items()}, body
        )
        with self.lock:
            self.recorded.append(req)
        try:
            reply = self._reply(req)
        except Exception as exc:  # a bug in the fake: say so loudly
            reply = Reply(500, {"error": f"fake crashed: {type(exc).__name__}: {exc}"})
        self._send(handler, reply)

    def _reply(self, req: Recorded) -> Reply:
        if req.path == "/__fake__/next_error" and req.method == "POST":
            spec = req.json or {}
            self.fail_next(
                int(spec.get("status", 500)),
                spec.get("body"),
                headers=spec.get("headers"),
                times=int(spec.get("times", 1)),
                method=spec.get("method"),
                path=spec.get("path"),
                raw=spec["raw"].encode() if isinstance(spec.get("raw"), str) else None,
                lose_answer=bool(spec.get("lose_answer")),
            )
            return Reply(200, {"ok": True})
        if req.path == "/__fake__/next_job_flags" and req.method == "POST":
            self.flag_next_job(*((req.json or {}).get("flags") or []))
            return Reply(200, {"ok": True})
        media = re.fullmatch(r"/__media__/([\w-]+)\.mp4", req.path)
        if media and req.method == "GET":
            return self._media(req, media.group(1))
        lose_answer = False
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(req.method, req.path):
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    if not fault.lose_answer:
                        return Reply(fault.status, fault.body, dict(fault.headers), raw=fault.raw)
                    lose_answer = True
                    break
        if lose_answer:
            handled = self._route(req)
            return Reply(handled.status, lost=True)
        return self._route(req)

    def _route(self, req: Recorded) -> Reply:
        for method, pattern, handler in self._routes:
            match = pattern.match(req.path)
            if match and method == req.method:
                denied = self.authorized(req)
                if denied is not None:
                    return denied
                return handler(req, **match.groupdict())
        return self.not_found(req)

    def not_found(self, req: Recorded) -> Reply:
        return Reply(404, {"error": f"no route for {req.method} {req.path}"})

    def _send(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.lost:
            handler.close_connection = True
            return
        if reply.raw is not None:
            payload = reply.raw
        elif reply.body is None:
            payload = b""
        else:
            payload = json.dumps(reply.body).encode()
            reply.headers.setdefault("Content-Type", "application/json")
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        if reply.truncate_to is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(payload[: reply.truncate_to] if reply.truncate_to is not None else payload)
        if reply.truncate_to is not None:
            handler.close_connection = True
        handler.wfile.flush()


def now_s() -> int:
    return int(time.time())

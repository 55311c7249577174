"""Every fake vendor in one process, so an operator can run the whole product against them:

    python -m tests.fakes.serve --catalog var/fake-vendors.json
    python manage.py load_catalog var/fake-vendors.json
    # start workers with the environment this prints (keys, base URLs, SCREENTEST_TEST_RESOLVE)

Ports are fixed (--first-port, default 8701) so the catalog file stays valid across restarts.
Faults can be injected while running: POST http://127.0.0.1:<port>/__fake__/next_error
{"status": 429, "headers": {"Retry-After": "5"}} or /__fake__/next_job_flags {"flags": ["policy-async"]}.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import threading
from pathlib import Path

from .all_vendors import VENDORS, catalog_entry, start_all, stop_all, worker_env
from .vendor_server import fake_mp4


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first-port", type=int, default=8701)
    parser.add_argument("--catalog", type=Path, help="write a catalog file pointing at the fakes")
    args = parser.parse_args(argv)
    fake_mp4()  # make the sample video before serving
    ports = {key: args.first_port + i for i, key in enumerate(VENDORS)}
    fakes = start_all(ports)
    for key, fake in fakes.items():
        print(f"{key:12} {fake.url}")
    if args.catalog:
        args.catalog.parent.mkdir(parents=True, exist_ok=True)
        args.catalog.write_text(json.dumps({"models": [catalog_entry(k, f) for k, f in fakes.items()]}, indent=2))
        print(f"catalog written to {args.catalog}")
    print("worker environment:")
    for name, value in worker_env(fakes).items():
        print(f"export {name}={shlex.quote(value)}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    stop_all(fakes)


if __name__ == "__main__":
    main()

"""CPU accounting from /proc for the load benchmarks: per process group (gunicorn), PostgreSQL
backends of the scratch database, Redis, this client, and the machine's total, so that CPU per
request can be reported even when other work shares the machine.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# CPU accounting from /proc


def read_stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, process group, utime + stime ticks) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[2]), int(fields[11]) + int(fields[12])


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def machine_ticks() -> dict[str, int]:
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return dict(zip(names, fields))


GROUPS = ("client", "gunicorn", "postgres", "redis")


def cpu_snapshot(server_pgid: int | None, dbname: str) -> dict:
    """CPU ticks of this run's processes: the client (this process), gunicorn (its process
    group), postgres (backends of the scratch database + the server's background processes:
    WAL writer, checkpointer, ...), redis. Backends of other databases are other people's."""
    groups: dict[int, tuple[str, int]] = {}
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        stat = read_stat(pid)
        if stat is None:
            continue
        comm, pgrp, ticks = stat
        if pid == me:
            group = "client"
        elif server_pgid is not None and pgrp == server_pgid:
            group = "gunicorn"
        elif comm.startswith("postgres"):
            line = cmdline(pid)
            # a backend reads "postgres: [15/main: ]user dbname host(port) state"
            words = line.replace("postgres: ", "", 1).split()
            is_backend = any(w.endswith(")") and "(" in w or w == "[local]" for w in words)
            if f" {dbname} " in line:
                group = "postgres"
            elif is_backend:
                continue
            else:
                group = "postgres"
        elif comm.startswith("redis-server"):
            group = "redis"
        else:
            continue
        groups[pid] = (group, ticks)
    return {"t": time.perf_counter(), "procs": groups, "machine": machine_ticks()}


def cpu_report(before: dict, after: dict) -> dict:
    """Cores used per group over the interval, and the machine's view of the same interval."""
    wall = after["t"] - before["t"]
    used: Counter = Counter()
    for pid, (group, ticks) in after["procs"].items():
        start = before["procs"].get(pid, (group, 0))[1]
        used[group] += max(0, ticks - start)
    cores = {g: used[g] / CLK_TCK / wall for g in GROUPS}
    delta = {k: (after["machine"][k] - before["machine"][k]) / CLK_TCK / wall for k in after["machine"]}
    total = sum(delta.values())
    busy = total - delta["idle"] - delta["iowait"]
    return {
        "cores": cores,
        "busy": busy,
        "total": total,
        "irq": delta["irq"] + delta["softirq"],
        "steal": delta["steal"],
    }


def machine_busy(seconds: float = 1.0) -> tuple[float, float]:
    before, t0 = machine_ticks(), time.perf_counter()
    time.sleep(seconds)
    after, wall = machine_ticks(), time.perf_counter() - t0
    delta = {k: (after[k] - before[k]) / CLK_TCK / wall for k in after}
    return sum(delta.values()) - delta["idle"] - delta["iowait"], sum(delta.values())


def format_cpu(cpu: dict, ok_per_s: float) -> list[str]:
    cores = cpu["cores"]
    ncpu = max(1, round(cpu["total"]))
    ours = sum(cores.values())
    parts = "  ".join(f"{g} {c:.2f}" for g, c in cores.items())
    lines = [
        f"  cpu (cores of {ncpu}): {parts}  | machine busy {cpu['busy']:.2f} = ours {ours:.2f} + irq/softirq "
        f"{cpu['irq']:.2f} + steal {cpu['steal']:.2f} + other processes "
        f"{max(0.0, cpu['busy'] - ours - cpu['irq'] - cpu['steal']):.2f}"
    ]
    if ok_per_s > 0:
        per = sum(cores.values()) + cpu["irq"]
        lines.append(
            "  cpu per 201: "
            + ", ".join(f"{g} {1000 * c / ok_per_s:.2f} ms" for g, c in cores.items())
            + f"; all of this run incl. irq {1000 * per / ok_per_s:.2f} ms -> idle-machine estimate "
            f"~{ok_per_s * ncpu / per:.0f}/s if the run had all {ncpu} cores"
        )
    return lines


def cpu_per_ok(cpu: dict, ok_per_s: float) -> float:
    return 1000 * (sum(cpu["cores"].values()) + cpu["irq"]) / ok_per_s if ok_per_s > 0 else float("nan")

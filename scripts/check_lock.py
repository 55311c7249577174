"""Fails when requirements/*.lock no longer match the pins in pyproject.toml.

The lock files are what every install uses (scripts/bootstrap.sh, the Dockerfile): exact
versions with hashes, transitive ones included. pyproject.toml stays the place where a direct
dependency is chosen; this check keeps the two from drifting. Regenerate after changing a pin:

    pip install pip-tools==7.6.2
    pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
        --no-emit-find-links --extra s3 -o requirements/app.lock pyproject.toml
    pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
        --no-emit-find-links --find-links /opt/wheels --extra s3 --extra test --extra local \
        -o requirements/test.lock pyproject.toml
    PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= pip-compile -q --rebuild --generate-hashes --allow-unsafe \
        --strip-extras --no-emit-index-url --no-emit-find-links --extra s3 --extra local \
        -o requirements/gpu.lock pyproject.toml

test.lock carries the `local` extra (torch, diffusers: the tiny-model tests) with torch's CPU build
from the machine's local wheel directory (/opt/wheels, pip's find-links here), so its line reads
torch==2.13.0+cpu with that wheel's hash: a local version label (+cpu) matches the plain pin.
gpu.lock (the Dockerfile's worker-gpu target) resolves torch from the package index, i.e. the
CUDA build with its nvidia-* wheels: PIP_CONFIG_FILE=/dev/null keeps a machine's pip config from
adding the local CPU wheel; pip-compile downloads every wheel to hash it (tens of GB, ~15 min). app.lock (the web image) must not carry torch at all.
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for line in requirements:
        match = PIN.match(line.strip())
        if not match:
            raise SystemExit(f"pyproject.toml: {line!r} is not pinned with ==")
        found[canonical(match.group(1))] = match.group(2)
    return found


def locked(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
        elif line and not line.startswith((" ", "#")):
            raise SystemExit(f"{path.name}: unexpected line {line!r}")
    return found


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {
        "app.lock": pins(project["dependencies"] + extras["s3"]),
        "test.lock": pins(project["dependencies"] + extras["s3"] + extras["test"] + extras["local"]),
        "gpu.lock": pins(project["dependencies"] + extras["s3"] + extras["local"]),
    }
    app_lock = locked(ROOT / "requirements" / "app.lock")
    problems = [
        f"app.lock: {name} belongs to the `local` extra, not the web image"
        for name in pins(extras["local"])
        if name in app_lock
    ]
    for name, direct in wanted.items():
        path = ROOT / "requirements" / name
        have = locked(path)
        if not any("--hash=sha256:" in line for line in path.read_text().splitlines()):
            problems.append(f"{name}: no hashes")
        for package, version in direct.items():
            # A local version label (torch's "+cpu" wheel) satisfies the plain pin, as in PEP 440.
            if (have.get(package) or "").split("+")[0] != version:
                problems.append(f"{name}: {package} is {have.get(package)}, pyproject.toml pins {version}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("regenerate the lock files: see the docstring of scripts/check_lock.py", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Parsers for the deployment files that tests/unit/test_deployment.py checks: settings.py read
with `ast` (never imported), docker-compose.yml, the Dockerfile, docker/nginx.conf and
.env.example. Pure: nothing here touches Django, a database or a Docker engine.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "webapp" / "settings.py"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
ENV_EXAMPLE = ROOT / ".env.example"

APP_SERVICES = ("web", "worker-generate", "worker-media", "worker-arena", "beat")
WORKER_SERVICES = ("worker-generate", "worker-media", "worker-arena")
REQUIRED_SERVICES = {"postgres", "redis", *APP_SERVICES, "nginx"}
# Read by a tool in the image rather than by our code.
READ_BY_TOOLS = {"WEB_CONCURRENCY"}  # gunicorn's worker count
# Where the Dockerfile puts the project (WORKDIR, COPY destinations).
APP_DIR = "/app"


# --- parsing helpers --------------------------------------------------------------------------


@functools.cache
def settings_tree() -> ast.Module:
    return ast.parse(SETTINGS.read_text(), filename=str(SETTINGS))


def settings_value_node(name: str) -> ast.expr:
    for node in settings_tree().body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    raise AssertionError(f"webapp/settings.py no longer assigns {name}")


def settings_literal(name: str):
    return ast.literal_eval(settings_value_node(name))


@functools.cache
def settings_env_reads() -> dict[str, str]:
    """Every environment variable settings.py reads -> the function reading it. Catches the
    env*() helpers (env, env_bool, env_number, env_list, env_secret and any new env_* one)
    and direct os.environ / os.getenv reads, when the name is a string literal."""
    reads: dict[str, str] = {}
    for node in ast.walk(settings_tree()):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = ast.unparse(node.func)
            if re.fullmatch(r"env\w*", func) or func in ("os.environ.get", "os.getenv", "environ.get"):
                reads[first.value] = func
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                reads[node.slice.value] = "os.environ[]"
    return reads


def secret_vars() -> set[str]:
    """Variables read through env_secret(), which also accepts NAME_FILE (docker secrets)."""
    return {name for name, func in settings_env_reads().items() if func == "env_secret"}


def beat_tasks() -> list[tuple[str, str | None]]:
    """(task name, explicit queue or None) for each CELERY_BEAT_SCHEDULE entry."""
    schedule = settings_value_node("CELERY_BEAT_SCHEDULE")
    assert isinstance(schedule, ast.Dict)
    found = []
    for entry in schedule.values:
        assert isinstance(entry, ast.Dict)
        fields = {ast.literal_eval(k): v for k, v in zip(entry.keys, entry.values)}
        queue = None
        if "options" in fields:
            queue = ast.literal_eval(fields["options"]).get("queue")
        found.append((ast.literal_eval(fields["task"]), queue))
    return found


def module_file(dotted: str) -> Path:
    path = ROOT.joinpath(*dotted.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def module_defines(dotted: str, attr: str) -> bool:
    path = module_file(dotted)
    if not path.is_file():
        return False
    for node in ast.parse(path.read_text()).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == attr:
            return True
        if any(isinstance(t, ast.Name) and t.id == attr for t in targets):
            return True
    return False


@functools.cache
def registered_tasks() -> tuple[set[str], dict[str, dict]]:
    """(names of the tasks Celery autodiscovers in the apps' tasks.py, their routes by name)."""
    from webapp.core.tasks import ROUTES
    from workers.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    names = {name for name in app.tasks if not name.startswith("celery.")}
    return names, {name: {"queue": route.queue} for name, route in ROUTES.items()}


def task_names() -> set[str]:
    return registered_tasks()[0]


@functools.cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict:
    return compose()["services"]


def argv(value) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def resolve_defaults(value: str) -> str:
    """What Compose makes of ${VAR-default} / ${VAR:-default} when VAR is unset."""

    def default(match):
        op, rest = match.group(2), match.group(3)
        if op in ("-", ":-"):
            return rest
        raise AssertionError(f"{match.group(0)}: no default; `docker compose config` would need it set")

    return INTERPOLATION.sub(default, value).replace("$$", "$")


def compose_interpolated_names() -> set[str]:
    return {m.group(1) for m in INTERPOLATION.finditer(COMPOSE_FILE.read_text())}


def volume_mounts(service: str) -> list[tuple[str, str, bool]]:
    """(source, target, read_only) of each short-syntax or long-syntax volume."""
    mounts = []
    for item in services()[service].get("volumes") or []:
        if isinstance(item, str):
            parts = item.split(":")
            mounts.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")))
        else:
            mounts.append((item.get("source", ""), item["target"], bool(item.get("read_only"))))
    return mounts


def mount_of(service: str, target: str) -> tuple[str, bool] | None:
    for source, tgt, ro in volume_mounts(service):
        if tgt.rstrip("/") == target.rstrip("/"):
            return source, ro
    return None


def target_of(service: str, source: str) -> str | None:
    for src, target, _ in volume_mounts(service):
        if src == source:
            return target
    return None


@functools.cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, rest = current.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        current = ""
    return instructions


def dockerfile_exec_form(keyword: str) -> list[str]:
    values = [rest for kw, rest in dockerfile() if kw == keyword]
    assert values, f"Dockerfile has no {keyword}"
    return argv(json.loads(values[-1]) if values[-1].startswith("[") else values[-1])


def in_repo(container_path: str) -> Path | None:
    """The repository file the image puts at `container_path` (its code lives at /app)."""
    if container_path.startswith(APP_DIR + "/"):
        return ROOT / container_path[len(APP_DIR) + 1 :]
    return None


def scripts_run() -> list[Path]:
    """Repository files executed by the containers: the entry point and command programs."""
    programs = [dockerfile_exec_form("ENTRYPOINT")[0], dockerfile_exec_form("CMD")[0]]
    programs += [argv(s["command"])[0] for s in services().values() if s.get("command")]
    return [path for path in map(in_repo, programs) if path is not None]


NGINX_TOKEN = re.compile(r"#[^\n]*|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};\"']+")


def parse_nginx(text: str):
    """nginx config -> list of (directive, args, children or None)."""
    tokens = [t for t in NGINX_TOKEN.findall(text) if not t.startswith("#")]

    def block(i: int):
        out, words = [], []
        while i < len(tokens):
            token = tokens[i]
            if token == ";":
                out.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                children, i = block(i + 1)
                out.append((words[0], words[1:], children))
                words = []
            elif token == "}":
                return out, i
            else:
                words.append(token[1:-1] if token[:1] in "\"'" else token)
            i += 1
        assert not words, f"unterminated directive {words}"
        return out, i

    return block(0)[0]


@functools.cache
def nginx_locations() -> dict[str, list]:
    servers = [children for name, _, children in parse_nginx(NGINX_CONF.read_text()) if name == "server"]
    assert len(servers) == 1, "docker/nginx.conf should hold one server block"
    return {args[-1]: children for name, args, children in servers[0] if name == "location"}


def directive(children, name: str) -> list[list[str]]:
    return [args for n, args, _ in children if n == name]


@functools.cache
def env_example_names() -> list[str]:
    """Variable names assigned in .env.example, commented out or not, in order."""
    return [m.group(1) for m in re.finditer(r"^#?[ \t]*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.M)]


def vars_read_by_scripts() -> set[str]:
    names = set()
    for script in (ROOT / "docker").glob("*.sh"):
        text = script.read_text()
        names |= set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
        names |= set(re.findall(r"os\.environ(?:\.get)?[(\[]\s*[\"']([A-Z][A-Z0-9_]*)", text))
    return names

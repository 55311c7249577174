"""The deployment files (Dockerfile, docker-compose.yml, docker/, .env.example) checked against
the code they run. Pure: files are parsed (settings.py with `ast`, never imported), nothing
touches Django, a database or a Docker engine.

The last test also validates docker-compose.yml with a real Compose binary when one is
available: $COMPOSE_BIN (e.g. "docker compose"), .cache/compose/docker-compose (fetched by
scripts/get-compose.sh), `docker compose` or `docker-compose`. Without one it skips, unless
SCREENTEST_REQUIRE_COMPOSE=1 (set it in CI), which turns the skip into a failure.

Over ~400 lines on purpose: one test per rule the deployment files must keep, in sections by
file; the parsers live in tests/deployment_files.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deployment_files import (
    APP_DIR,
    APP_SERVICES,
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    NGINX_CONF,
    READ_BY_TOOLS,
    REQUIRED_SERVICES,
    ROOT,
    WORKER_SERVICES,
    argv,
    beat_tasks,
    compose,
    compose_interpolated_names,
    directive,
    dockerfile,
    dockerfile_exec_form,
    env_example_names,
    environment,
    in_repo,
    module_defines,
    mount_of,
    nginx_locations,
    option,
    parse_nginx,
    registered_tasks,
    resolve_defaults,
    scripts_run,
    secret_vars,
    services,
    settings_env_reads,
    settings_literal,
    target_of,
    task_names,
    vars_read_by_scripts,
    volume_mounts,
)

# --- compose: services, image, commands ---------------------------------------------------------


def test_required_services_exist():
    assert "version" not in compose(), "the Compose spec has no `version:` key"
    assert REQUIRED_SERVICES <= set(services()), f"missing: {REQUIRED_SERVICES - set(services())}"


def test_app_services_share_one_image_built_from_the_dockerfile():
    builds = {json.dumps(services()[s].get("build"), sort_keys=True) for s in APP_SERVICES}
    images = {services()[s].get("image") for s in APP_SERVICES}
    assert len(builds) == 1 and len(images) == 1, (builds, images)
    build = services()["web"]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile_name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile_name).resolve() == DOCKERFILE
    if not isinstance(build, str):
        declared = {rest.split("=")[0] for kw, rest in dockerfile() if kw == "ARG"}
        assert set(build.get("args") or {}) <= declared, "build args the Dockerfile does not declare"


def test_images_are_pinned():
    for name, service in services().items():
        image = service.get("image")
        assert image or service.get("build"), f"{name} has neither image nor build"
        if image:
            ref = image.split("@")[0]
            tag = ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else None
            assert tag and tag != "latest", f"{name}: pin a tag instead of {image!r}"
    stages: set[str] = set()
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            words = rest.split()
            base = words[0]
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
            if base in stages - {words[-1]}:  # an earlier stage of this file
                continue
            assert ":" in base and not base.endswith(":latest"), f"Dockerfile FROM {base}: pin a tag"


def test_every_service_restarts_unless_stopped():
    for name, service in services().items():
        assert service.get("restart") == "unless-stopped", name


def test_workers_consume_the_queues_settings_route_to():
    routes = registered_tasks()[1]
    default_queue = settings_literal("CELERY_TASK_DEFAULT_QUEUE")
    assert set(routes) <= task_names(), f"routes name tasks that do not exist: {set(routes) - task_names()}"
    assert task_names() <= set(routes), f"tasks without a route: {task_names() - set(routes)}"
    assert {task for task, _ in beat_tasks()} <= task_names(), "beat names a task that does not exist"

    consumed: dict[str, set[str]] = {}
    for name in services():
        args = argv(services()[name].get("command"))
        if args[:1] == ["celery"] and "worker" in args:
            queues = option(args, "-Q", "--queues")
            assert queues, f"{name}: a worker without -Q consumes only {default_queue!r}"
            consumed[name] = set(queues.split(","))
    assert set(WORKER_SERVICES) <= set(consumed)
    everything = set().union(*consumed.values())

    # Each routed task has a consumer, and the worker named after a queue takes that queue.
    for task, route in routes.items():
        assert route["queue"] in everything, f"nobody consumes {route['queue']!r} ({task})"
        if route["queue"] != default_queue:
            assert route["queue"] in consumed.get(f"worker-{route['queue']}", set()), (
                f"worker-{route['queue']} should consume {route['queue']!r}"
            )
    # Beat's tasks go where their options or routes say, else to the default queue.
    for task, queue in beat_tasks():
        queue = queue or routes.get(task, {}).get("queue") or default_queue
        assert queue in everything, f"beat sends {task} to {queue!r}, which no worker consumes"
    # No worker listens on a queue nothing sends to (a typo there would leave a pool idle).
    known = {route["queue"] for route in routes.values()} | {default_queue}
    assert everything <= known, f"queues nobody routes to: {everything - known}"


def test_celery_commands_point_at_the_app_and_worker_healthchecks_ping_their_node():
    for name, service in services().items():
        args = argv(service.get("command"))
        if args[:1] != ["celery"]:
            continue
        module = option(args, "-A", "--app")
        assert module and module_defines(module, "app"), f"{name}: {module} must define `app`"
        if "worker" in args:
            node = option(args, "-n", "--hostname")
            assert node and node.endswith("@%h"), f"{name}: name the node <queue>@%h, got {node!r}"
            test = " ".join(argv(service["healthcheck"]["test"]))
            assert "inspect ping" in test and f"-d {node[:-2]}$$HOSTNAME" in test, (name, test)
            assert service["healthcheck"].get("timeout"), f"{name}: inspect ping needs a timeout"
        if "beat" in args:
            schedule = option(args, "-s", "--schedule")
            assert schedule and schedule.startswith("/data/"), f"beat's schedule belongs in /data: {schedule}"


def test_web_serves_the_wsgi_application():
    wsgi = settings_literal("WSGI_APPLICATION")  # "webapp.wsgi.application"
    expected = "{}:{}".format(*wsgi.rsplit(".", 1))
    web_script = in_repo(argv(services()["web"]["command"])[0])
    assert web_script is not None and web_script.is_file()
    sources = {
        "docker-compose web command": web_script.read_text(),
        "Dockerfile CMD": " ".join(dockerfile_exec_form("CMD")),
    }
    for where, text in sources.items():
        found = re.findall(r"gunicorn\s+(?:\\\s*)?([\w.]+:\w+)", text)
        assert found == [expected], f"{where} should run gunicorn {expected}, runs {found}"
        module, attr = expected.split(":")
        assert module_defines(module, attr)
        assert re.search(r"--bind[ =]0\.0\.0\.0:8000", text), f"{where}: bind 0.0.0.0:8000 (nginx and healthcheck)"


def test_web_script_prepares_the_database_and_static_files():
    script = in_repo(argv(services()["web"]["command"])[0]).read_text()
    commands = re.findall(r"python manage\.py (\w+)", script)
    assert commands[:2] == ["migrate", "load_catalog"], commands
    assert "collectstatic" in commands
    django_dir = Path(importlib.util.find_spec("django").origin).parent  # locates, does not import
    for command in commands:
        candidates = [
            *django_dir.glob(f"**/management/commands/{command}.py"),
            *ROOT.glob(f"webapp/**/management/commands/{command}.py"),
        ]
        assert candidates, f"no management command {command!r}"
    assert re.search(r"^exec gunicorn", script, re.M), "exec gunicorn so it gets the stop signal"


def test_referenced_files_exist_and_scripts_are_executable():
    scripts = scripts_run()
    assert ROOT / "docker" / "entrypoint.sh" in scripts and ROOT / "docker" / "web.sh" in scripts
    for script in {*scripts, *(ROOT / "docker").glob("*.sh")}:
        assert script.is_file(), f"{script} is run but missing"
        mode = script.stat().st_mode
        assert mode & stat.S_IXUSR and mode & stat.S_IXOTH, f"chmod +x {script.relative_to(ROOT)}"
        text = script.read_text()
        assert text.startswith(("#!/usr/bin/env bash\n", "#!/bin/bash\n")), script
        assert re.search(r"^set -euo pipefail$", text, re.M), f"{script.name}: set -euo pipefail"
        if shutil.which("bash"):
            check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            assert check.returncode == 0, check.stderr
    # The entry point hands over with exec, or signals never reach the command.
    assert re.search(r'^exec "\$@"$', (ROOT / "docker" / "entrypoint.sh").read_text(), re.M)

    for name, service in services().items():
        for source, _, _ in volume_mounts(name):
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
        env_files = service.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            # .env is the operator's copy of .env.example and never committed.
            assert (ROOT / path).is_file() or (path == ".env" and ENV_EXAMPLE.is_file()), path


def test_dockerfile_builds_a_sensible_image():
    keywords = [kw for kw, _ in dockerfile()]
    base = next(rest for kw, rest in dockerfile() if kw == "FROM").split()[0]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = re.search(r">=\s*(3\.\d+)", requires).group(1)
    assert base.startswith(f"python:{minor}-slim"), f"{base} vs requires-python {requires}"

    runs = " ".join(rest for kw, rest in dockerfile() if kw == "RUN")
    assert re.search(r"apt-get install[^&]*\bffmpeg\b", runs)
    assert re.search(r"pip install", runs)
    assert "collectstatic --noinput" in runs and "SECRET_KEY=" in runs

    users = [rest for kw, rest in dockerfile() if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "run as a non-root user"
    assert ("WORKDIR", APP_DIR) in dockerfile()
    assert keywords.index("USER") < max(i for i, kw in enumerate(keywords) if kw == "RUN"), (
        "collectstatic runs as the app user, so the static files belong to it"
    )

    # Every part of the code base the app imports or reads is copied into /app.
    copied = set()
    for kw, rest in dockerfile():
        if kw == "COPY":
            *sources, _dest = [w for w in rest.split() if not w.startswith("--")]
            copied |= {s.rstrip("/") for s in sources}
    needed = {"manage.py", "docker", "requirements/app.lock"}
    needed |= {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"}
    needed |= {"templates", "static"}  # TEMPLATES DIRS and STATICFILES_DIRS in settings.py
    assert needed <= copied or "." in copied, f"not copied into the image: {needed - copied}"


# --- compose: environment, volumes, dependencies -----------------------------------------------


def test_app_services_get_the_wiring():
    postgres = environment("postgres")
    for name in APP_SERVICES:
        env = {k: resolve_defaults(v) for k, v in environment(name).items()}
        db = urlsplit(env["DATABASE_URL"])
        assert (db.scheme, db.hostname, db.port) == ("postgres", "postgres", 5432), env["DATABASE_URL"]
        assert (db.username, db.password, db.path.lstrip("/")) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
            postgres["POSTGRES_DB"],
        )
        assert urlsplit(env["REDIS_URL"]).hostname == "redis"
        for key in ("DATA_DIR", "MEDIA_ROOT", "STATIC_ROOT", "MEDIA_ACCEL_REDIRECT_PREFIX", "ALLOWED_HOSTS"):
            assert env.get(key), f"{name}: {key} not set"
        assert env["DATA_DIR"] == "/data" and env["MEDIA_ROOT"].startswith("/data/")
        assert "127.0.0.1" in env["ALLOWED_HOSTS"].split(","), "the web healthcheck asks for 127.0.0.1"
        # The key comes from .env (the processes refuse to start without a strong one).
        assert "SECRET_KEY" not in env and env.get("DEBUG", "false") == "false"
        # No typo can hide here: every name is one something in the image reads.
        known = (
            set(settings_env_reads()) | {f"{s}_FILE" for s in secret_vars()} | vars_read_by_scripts() | READ_BY_TOOLS
        )
        assert set(env) <= known, f"{name}: variables nothing reads: {set(env) - known}"


def test_media_volume_is_shared_by_web_workers_and_nginx():
    media_root = resolve_defaults(environment("web")["MEDIA_ROOT"])
    media = mount_of("web", media_root)
    assert media and not media[0].startswith((".", "/")), "MEDIA_ROOT must be a named volume in web"
    volume = media[0]
    assert volume in (compose().get("volumes") or {})
    for name in WORKER_SERVICES:
        assert resolve_defaults(environment(name)["MEDIA_ROOT"]) == media_root
        assert mount_of(name, media_root) == (volume, False), f"{name} must write {volume} at {media_root}"
    assert target_of("nginx", volume), "nginx must see the media volume"
    assert all(ro for src, _, ro in volume_mounts("nginx") if src == volume), "nginx mounts media read-only"


def test_dependencies_wait_for_health():
    for name in APP_SERVICES:
        depends = services()[name].get("depends_on") or {}
        for dependency in ("postgres", "redis"):
            assert depends.get(dependency, {}).get("condition") == "service_healthy", f"{name} -> {dependency}"
    for name in (*WORKER_SERVICES, "beat", "nginx"):
        depends = services()[name]["depends_on"]
        assert depends["web"]["condition"] == "service_healthy", f"{name} should wait for web (migrations)"
    for service in services().values():
        for dependency, spec in (service.get("depends_on") or {}).items():
            if isinstance(spec, dict) and spec.get("condition") == "service_healthy":
                assert services()[dependency].get("healthcheck"), f"{dependency} needs a healthcheck"


def test_healthchecks_use_real_endpoints():
    urls = (ROOT / "webapp" / "studio" / "urls.py").read_text() + (ROOT / "webapp" / "urls.py").read_text()
    assert re.search(r"""path\(\s*["']healthz["']""", urls), "the healthz URL is gone"
    web = " ".join(argv(services()["web"]["healthcheck"]["test"]))
    assert "http://127.0.0.1:8000/healthz" in web
    nginx = " ".join(argv(services()["nginx"]["healthcheck"]["test"]))
    assert "/healthz" in nginx
    pg = " ".join(argv(services()["postgres"]["healthcheck"]["test"]))
    assert "pg_isready" in pg
    redis_args = argv(services()["redis"]["command"])
    assert "--appendonly" in redis_args and option(redis_args, "--maxmemory-policy") == "noeviction"


# --- nginx -------------------------------------------------------------------------------------


def test_nginx_internal_location_serves_the_media_volume():
    prefix = resolve_defaults(environment("web")["MEDIA_ACCEL_REDIRECT_PREFIX"])
    assert prefix.startswith("/")
    internal = {path: children for path, children in nginx_locations().items() if directive(children, "internal")}
    named, blind = prefix.rstrip("/") + "/", prefix.rstrip("/") + "-blind/"
    assert sorted(internal) == sorted([named, blind]), f"internal locations {list(internal)} vs {prefix}"
    children = internal[named]

    media_root = resolve_defaults(environment("web")["MEDIA_ROOT"])
    volume, _ = mount_of("web", media_root)
    assert directive(children, "alias") == [[target_of("nginx", volume).rstrip("/") + "/"]]
    types = next(c for n, _, c in children if n == "types")
    assert ("video/mp4", ["mp4"], None) in types and any(n == "image/jpeg" for n, _, _ in types)
    headers = {args[0].lower(): " ".join(args[1:]) for args in directive(children, "add_header")}
    assert "max-age=31536000" in headers.get("cache-control", "")

    # Battle media (served "-blind"): the same volume, without nginx's own ETag/Last-Modified.
    blind_children = internal[blind]
    assert directive(blind_children, "alias") == directive(children, "alias")
    assert directive(blind_children, "etag") == [["off"]]
    blind_headers = {args[0].lower(): args[1:] for args in directive(blind_children, "add_header")}
    assert blind_headers.get("last-modified") == ['""'] or blind_headers.get("last-modified") == [""]


def test_nginx_serves_static_from_the_collected_volume_and_proxies_the_rest():
    static_url = "/" + settings_literal("STATIC_URL").strip("/") + "/"
    static_root = resolve_defaults(environment("web")["STATIC_ROOT"])
    volume, read_only = mount_of("web", static_root)
    assert not read_only and target_of("nginx", volume)
    location = nginx_locations()[static_url]
    assert directive(location, "alias") == [[target_of("nginx", volume).rstrip("/") + "/"]]

    root = nginx_locations()["/"]
    upstream = directive(root, "proxy_pass")[0][0]
    servers = [c for n, _, c in parse_nginx(NGINX_CONF.read_text()) if n == "server"][0]
    variables = {args[0]: args[1] for args in directive(servers, "set")}
    assert variables.get(upstream, upstream) == "http://web:8000"
    headers = {args[0]: args[1] for args in directive(root, "proxy_set_header")}
    assert {"Host", "X-Forwarded-For", "X-Forwarded-Proto"} <= set(headers)
    assert directive(servers, "client_max_body_size")


def test_nginx_never_passes_on_what_a_client_says_about_its_address_or_scheme():
    """X-Forwarded-For is the address nginx saw (not appended to the client's header, whose
    first entry Django would take); X-Forwarded-Proto is nginx's own scheme unless the request
    came from a proxy listed as trusted, and no proxy is trusted by default."""
    top = parse_nginx(NGINX_CONF.read_text())
    headers = {args[0]: args[1] for args in directive(nginx_locations()["/"], "proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$remote_addr" and headers["X-Real-IP"] == "$remote_addr"
    proto = headers["X-Forwarded-Proto"]
    assert proto in ("$scheme", "$forwarded_proto")
    if proto == "$forwarded_proto":
        (args, mapping) = next((a, c) for n, a, c in top if n == "map" and a[-1] == "$forwarded_proto")
        table = {entry: value[0] for entry, value, _ in mapping}
        assert table["default"] == "$scheme" and "$http_x_forwarded_proto" not in table.values()
        trust_variable = args[0].split(":")[0].strip('"')
        geo = next(c for n, a, c in top if n == "geo" and a[-1] == trust_variable)
        assert [(entry, value) for entry, value, _ in geo] == [("default", ["0"])], "no proxy trusted by default"
    assert not directive(top, "set_real_ip_from"), "no proxy trusted by default"


def test_compose_publishes_nginx_on_loopback_unless_told_otherwise():
    (published,) = services()["nginx"]["ports"]
    host, _port, target = resolve_defaults(published).rsplit(":", 2)
    assert host == "127.0.0.1" and target == "80"
    assert "${WEB_BIND:-127.0.0.1}" in published


# --- .env.example ------------------------------------------------------------------------------


def test_settings_extraction_finds_the_variables():
    reads = settings_env_reads()
    assert len(reads) >= 30 and {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"} <= set(reads)
    assert {"SECRET_KEY", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"} <= secret_vars()


def test_env_example_documents_every_setting():
    documented = set(env_example_names())
    wanted = set(settings_env_reads()) | {f"{name}_FILE" for name in secret_vars()}
    missing = sorted(wanted - documented)
    assert not missing, f".env.example does not document: {missing}"


def test_env_example_lists_no_unknown_variable():
    known = (
        set(settings_env_reads())
        | {f"{name}_FILE" for name in secret_vars()}
        | vars_read_by_scripts()
        | compose_interpolated_names()
        | READ_BY_TOOLS
    )
    unknown = sorted(n for n in set(env_example_names()) - known if not n.startswith("POSTGRES_"))
    assert not unknown, f".env.example lists variables nothing reads: {unknown}"
    duplicates = sorted({n for n in env_example_names() if env_example_names().count(n) > 1})
    assert not duplicates, f"listed twice: {duplicates}"


def test_env_example_explains_each_variable():
    lines = ENV_EXAMPLE.read_text().splitlines()
    assignment = re.compile(r"^#?[ \t]*[A-Z][A-Z0-9_]*=")
    for i, line in enumerate(lines):
        if not assignment.match(line):
            continue
        j = i - 1
        while j >= 0 and assignment.match(lines[j]):
            j -= 1
        assert j >= 0 and lines[j].startswith("# ") and len(lines[j]) > 3, f"no comment above: {line}"
        value = line.split("=", 1)[1]
        assert "$" not in value and " #" not in value, f"plain values only (Compose v1/v2 differ): {line}"


def test_compose_interpolations_are_documented():
    undocumented = compose_interpolated_names() - set(env_example_names())
    assert not undocumented, f"docker-compose.yml reads {sorted(undocumented)}; document them in .env.example"


# --- a real Compose binary ----------------------------------------------------------------------


def compose_command() -> list[str] | None:
    explicit = os.environ.get("COMPOSE_BIN")
    if explicit:
        return shlex.split(explicit)
    cached = ROOT / ".cache" / "compose" / "docker-compose"
    if os.access(cached, os.X_OK):
        return [str(cached)]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_validates_with_compose(tmp_path):
    command = compose_command()
    if command is None:
        reason = "no Compose binary: run scripts/get-compose.sh (or set COMPOSE_BIN)"
        if os.environ.get("SCREENTEST_REQUIRE_COMPOSE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)

    # A fresh checkout as an operator prepares it: the repository plus `cp .env.example .env`.
    project = tmp_path / "project"
    project.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in (".env", "docker-compose.yml"):
            (project / entry.name).symlink_to(entry)
    shutil.copy(ENV_EXAMPLE, project / ".env")
    # Variables from the caller's shell would win over the defaults: leave them out.
    env = {
        k: v for k, v in os.environ.items() if k not in compose_interpolated_names() and not k.startswith("COMPOSE_")
    }
    base = [*command, "-f", str(COMPOSE_FILE), "--project-directory", str(project)]

    quiet = subprocess.run([*base, "config", "-q"], capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0, f"{' '.join(command)} config -q failed:\n{quiet.stderr}{quiet.stdout}"

    rendered = subprocess.run([*base, "config"], capture_output=True, text=True, env=env, timeout=120)
    assert rendered.returncode == 0, rendered.stderr
    resolved = yaml.safe_load(rendered.stdout)["services"]
    assert REQUIRED_SERVICES <= set(resolved)
    # Compose's own reading of the anchors and defaults agrees with the checks above.
    for name in APP_SERVICES:
        env_out = resolved[name]["environment"]
        assert env_out["MEDIA_ACCEL_REDIRECT_PREFIX"].rstrip("/") + "/" in nginx_locations()
        assert env_out["MEDIA_ROOT"] == resolve_defaults(environment("web")["MEDIA_ROOT"])
        assert "SECRET_KEY" not in env_out and str(env_out.get("DEBUG", "false")).lower() == "false"
    for name in WORKER_SERVICES:
        assert argv(resolved[name]["command"]) == argv(services()[name]["command"])

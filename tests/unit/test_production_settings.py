"""Headers and the deploy check (issue 12, item 4): the production environment documented in
docs/deployment.md passes `manage.py check --deploy` with no warning, every page carries a
Content-Security-Policy without 'unsafe-inline', and no template needs one."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"


def documented_production_env() -> dict[str, str]:
    """The KEY=VALUE lines of the block after <!-- production-env --> in docs/deployment.md."""
    text = DEPLOYMENT_DOC.read_text()
    block = re.search(r"<!-- production-env -->\s*```\w*\n(.*?)```", text, re.S)
    assert block, "docs/deployment.md lost its production-env block"
    env = dict(line.split("=", 1) for line in block.group(1).splitlines() if "=" in line)
    assert env["SECRET_KEY"].startswith("<"), "the doc shows a placeholder, never a key"
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def test_the_documented_production_environment_passes_the_deploy_check_with_no_warning(tmp_path):
    keep = ("PATH", "HOME", "DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "BROKER_KEY_PREFIX", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env |= {"DATA_DIR": str(tmp_path), **documented_production_env()}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_it_the_deploy_check_names_what_is_missing(tmp_path):
    env = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(50)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr + result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/arena", "/leaderboard", "/new", "/api/v1/models", "/admin/login/"])
def test_every_response_carries_a_strict_content_security_policy(path):
    policy = Client().get(path)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.django_db
def test_hsts_and_the_https_redirect_follow_the_settings(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    client = Client()
    redirected = client.get("/leaderboard")
    assert redirected.status_code == 301 and redirected["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200  # container health checks ask over http
    secure = client.get("/leaderboard", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


INLINE_CODE = [
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style", re.I), "a <style> element"),
    (re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I), "a javascript: URL"),
]


def test_no_template_needs_unsafe_inline():
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE_CODE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)

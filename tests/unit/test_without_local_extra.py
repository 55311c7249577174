"""The web process and the vendor workers are installed without the `local` extra (torch,
diffusers, transformers): `scripts/up.sh` and the web image use requirements/app.lock only.
Loading the shipped catalog, which lists the diffusers models, must not need those packages."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Runs in a fresh interpreter where importing any package of the `local` extra fails, as it
# does in an install from app.lock.
WITHOUT_LOCAL_EXTRA = """
import sys
from importlib.abc import MetaPathFinder

class NoLocalExtra(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "diffusers", "transformers", "accelerate", "huggingface_hub", "tokenizers", "safetensors"}:
            raise ModuleNotFoundError(f"No module named {name!r} (the local extra is not installed)")
        return None

sys.meta_path.insert(0, NoLocalExtra())

import django
django.setup()
from webapp.catalog.backend_status import backend_statuses
from webapp.catalog.models import VideoModel
from webapp.catalog.services import DEFAULT_CATALOG, FIELDS

entries = json.loads(DEFAULT_CATALOG.read_text())["models"]
local = [e for e in entries if e["backend_key"] == "diffusers"]
assert local, "the shipped catalog lists diffusers models"
for entry in local:
    VideoModel(slug=entry["slug"], **{k: entry[k] for k in FIELDS if k in entry}).clean()
print(json.dumps(sorted(e["slug"] for e in local)))
"""


def test_the_catalog_loads_and_checks_its_local_models_without_torch():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "webapp.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + WITHOUT_LOCAL_EXTRA],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "wan-2-1-t2v-1-3b" in json.loads(done.stdout.splitlines()[-1])

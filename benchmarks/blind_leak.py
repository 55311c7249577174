"""The arena's blindness, measured as an attacker would: learn from reveals, then try to name the
model of each clip of a held-out battle from everything a client can read before voting.

Run: .venv/bin/python benchmarks/blind_leak.py [--prompts 4] [--battles 200] [--short-side 270]
     [--fps 30] [--train 0.6] [--seed 1]

What it does:
* Embedded defaults (SQLite and the filesystem broker in a temp DATA_DIR), so it needs no
  services. Models from five kinds of backend: the three procedural demo models, a test
  pattern backend whose originals name their vendor in the container metadata, and the vendor
  adapters still served (six; Sora is retired) against their fake servers on 127.0.0.1, each fake returning a video of its own
  resolution, frame rate, duration, bitrate, sound and encoder (tests/fakes/signatures.py).
  Every clip goes through the real generate and media steps; every battle is rendered by the real
  arena step (arena/services/renditions.py), at --short-side and --fps.
* The attacker is a set of voters, each started with the proof-of-work check as a browser does,
  using only the JSON API and the pages: ask for the next battle, poll until ready, read the
  battle page and its JSON, fetch each side (HEAD, a Range request, the whole file), timing each
  answer, then vote and read the reveal. Instead of waiting out each clip, the benchmark moves
  the server's watch clock back (the one shortcut; the reveal is the same). A revealed clip is
  never served to the same voter again, so the attacker rotates voters, as a real one would.
* Features per battle side, by family: page (battle page and JSON, with ids and tokens blanked),
  headers (every header of the three answers but Date), size (bytes), boxes (MP4 box layout and
  sizes), container (every ffprobe format and stream field), packets (every ffprobe packet
  field), frames (every ffprobe decoded-frame field), timing (answer times). Two families are
  reported apart because they are derived from the pictures, which voters are there to judge:
  coded_pictures (frame sizes once ffmpeg's filter_units strips the filler NAL units) and pixels
  (8x8 grey thumbnails). A positive control runs the same attacker on the same clips' public
  gallery files, whose frame rate, size and boxes do follow the model: it must score well above
  chance, or the attacker is broken.
* Two classifiers per family, trained on the first --train share of battles and scored on the
  rest: exact match (the family's whole value, most frequent model for that value) and 5-nearest
  neighbours on every numeric leaf, z-scored. Chance is what guessing the most frequent model of
  the training battles scores on the held-out ones. Reported: accuracy of each, and the better
  one (an optimistic attacker: the choice is made on the held-out set).

Exit status 1 when the non-visual families together beat chance by more than 5 points (issue 11's
target), or the positive control fails to beat it by 20.

Over ~400 lines on purpose: the attacker is one experiment (render, serve, collect every feature
family, learn, score) and its docstring is the write-up of its method.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

NON_VISUAL = ["page", "headers", "size", "boxes", "container", "packets", "frames", "timing"]
FROM_PICTURES = ["coded_pictures", "pixels"]
CONTROL = ["gallery_container", "gallery_packets", "gallery_size"]
TARGET_POINTS = 5.0
CONTROL_POINTS = 20.0
PROMPTS = [
    "a red fox trotting through fresh snow at dawn",
    "waves breaking on black volcanic rocks, slow motion",
    "a paper boat drifting down a rainy city gutter",
    "a hummingbird hovering at a purple flower",
    "a neon-lit street market at night, handheld camera",
    "a time-lapse of clouds rolling over mountains",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=int, default=4, help="prompts, each made by every model")
    parser.add_argument("--battles", type=int, default=200, help="battles served and revealed")
    parser.add_argument("--short-side", type=int, default=270, help="ARENA_CANVAS_SHORT_SIDE")
    parser.add_argument("--fps", type=int, default=30, help="ARENA_FPS")
    parser.add_argument("--train", type=float, default=0.6, help="share of battles to learn from")
    parser.add_argument("--per-voter", type=int, default=8, help="battles before the attacker rotates voters")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-minutes", type=float, default=30, help="stop serving battles after this")
    return parser.parse_args()


def configure(args: argparse.Namespace, data_dir: str) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="webapp.settings",
        DATA_DIR=data_dir,
        ARENA_CANVAS_SHORT_SIDE=str(args.short_side),
        ARENA_FPS=str(args.fps),
        ARENA_POW_BITS="8",  # the attacker pays the check either way; a second each adds nothing here
        ARENA_NEW_VOTERS_PER_IP_PER_HOUR="100000",  # every voter is 127.0.0.1 here
        ARENA_BATTLES_PER_IP_PER_HOUR="100000",
        VOTE_RATE_PER_MINUTE="100000",
        VOTE_RATE_PER_IP_PER_MINUTE="0",
    )


# --- clips --------------------------------------------------------------------------------------


def make_clips(n_prompts: int) -> list[str]:
    """Every model's clip of each prompt, through the real generate and media steps."""
    from tests.fakes.all_vendors import VENDORS, catalog_entry
    from tests.fakes.signatures import SIGNATURES, signature_video
    from webapp.catalog.models import VideoModel
    from webapp.catalog.services import load_catalog
    from webapp.studio.models import JobState, Prompt
    from webapp.studio.services import pipeline
    from webapp.studio.services.submission import PromptInput, submit_prompt
    from workers.backends import registry
    from workers.backends.capabilities import retirement

    load_catalog()
    registry.BACKENDS["fake-vendor"] = "tests.fakes.backends.TestPattern"
    registry.backend_class.cache_clear()
    VideoModel.objects.create(
        slug="vendorx-gen3",
        display_name="VendorX Gen-3",
        vendor="VendorX Inc",
        backend_key="fake-vendor",
        backend_params={"base_width": 320, "base_height": 180},
    )
    live = [key for key, (_slug, _cls, _prefix, params) in VENDORS.items() if retirement(key, params) is None]
    for signature, key in zip(SIGNATURES, live):  # a retired model (Sora) can no longer be asked
        FAKES[key].output_video = signature_video(signature)
        VideoModel.objects.create(**catalog_entry(key, FAKES[key]))
    for i, text in enumerate(PROMPTS[:n_prompts]):
        prompt = submit_prompt(PromptInput(text=text, duration_s=4, seed=11 + i))
        Prompt.objects.filter(pk=prompt.pk).update(pool="official")
        for job in prompt.jobs.all():
            pipeline.generate_step(job.pk, owner="bench pid 1")
            pipeline.media_step(job.pk, owner="bench pid 1")
        states = Counter(prompt.jobs.values_list("state", flat=True))
        if set(states) != {JobState.SUCCEEDED}:
            raise SystemExit(f"clip generation failed: {dict(states)}")
    return sorted(VideoModel.objects.filter(jobs__state=JobState.SUCCEEDED).values_list("slug", flat=True).distinct())


FAKES: dict = {}


# --- the attacker -------------------------------------------------------------------------------


def new_voter():
    from django.test import Client

    from webapp.arena.services import proof_of_work

    client = Client(HTTP_HOST="localhost")
    challenge = client.get("/api/v1/voters/challenge").json()
    solution = proof_of_work.solve(challenge["nonce"], challenge["bits"])
    answer = client.post(
        "/api/v1/voters",
        json.dumps({"challenge": challenge["challenge"], "solution": solution}),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    return client


def timed(call, *args, **kwargs):
    started = time.perf_counter()
    response = call(*args, **kwargs)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body, time.perf_counter() - started


def blank_ids(text: str, public_id: str) -> str:
    text = text.replace(public_id, "<battle>")
    text = re.sub(r'"token": "[^"]+"', '"token": "<token>"', text)
    text = re.sub(r'(name="(?:token|csrfmiddlewaretoken)" value=")[^"]+"', r'\1<token>"', text)
    return re.sub(r"\d{9,}", "<n>", text)


def run(cmd: list[str], **kwargs) -> bytes:
    return subprocess.run(cmd, capture_output=True, check=True, timeout=120, **kwargs).stdout


def ffprobe(path: Path, *sections: str) -> dict:
    report = json.loads(run(["ffprobe", "-v", "error", *sections, "-of", "json", str(path)]))
    report.get("format", {}).pop("filename", None)
    return report


def coded_picture_sizes(path: Path, scratch: Path) -> list[int]:
    """The size of each coded picture once the filler NAL units (type 12) are dropped, with
    stock ffmpeg: what is left follows how hard the picture was to code."""
    stripped = scratch / "stripped.mp4"
    run(["ffmpeg", "-v", "error", "-y", "-i", str(path), "-map", "0:v", "-c", "copy"]
        + ["-bsf:v", "filter_units=remove_types=12", str(stripped)])  # fmt: skip
    return [int(p["size"]) for p in ffprobe(stripped, "-show_packets", "-select_streams", "v")["packets"]]


def thumbnails(path: Path) -> list[int]:
    """Four 8x8 grey thumbnails, spread over the clip."""
    raw = run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", "select='not(mod(n,24))',scale=8:8,format=gray"]
              + ["-frames:v", "4", "-vsync", "vfr", "-f", "rawvideo", "-"])  # fmt: skip
    return list(raw[: 4 * 64])


def side_features(client, battle: dict, side: str, scratch: Path) -> dict:
    url = battle[side]["video_url"]
    head, _, t_head = timed(client.head, url)
    ranged, ranged_body, t_range = timed(client.get, url, HTTP_RANGE="bytes=0-1023")
    whole, body, t_whole = timed(client.get, url)
    if whole.status_code != 200 or ranged.status_code != 206 or ranged_body != body[:1024]:
        raise SystemExit(f"{side} media answered {whole.status_code}/{ranged.status_code}")
    path = scratch / f"{side}.mp4"
    path.write_bytes(body)
    from workers.media import mp4

    def headers(response) -> dict:
        return {k: v for k, v in response.headers.items() if k != "Date"}

    probed = ffprobe(path, "-show_format", "-show_streams", "-show_packets")
    return {
        "headers": [headers(head), headers(ranged), headers(whole)],
        "size": [len(body), int(whole["Content-Length"])],
        "boxes": mp4.box_layout(body),
        "container": {"format": probed["format"], "streams": probed["streams"]},
        "packets": probed["packets"],
        "frames": ffprobe(path, "-show_frames")["frames"],
        "timing": [t_head, t_range, t_whole],
        "coded_pictures": coded_picture_sizes(path, scratch),
        "pixels": thumbnails(path),
    }


@functools.cache
def gallery_features(slug: str, prompt_text: str) -> dict:
    """The public gallery file of the clip behind a side (positive control)."""
    from django.conf import settings

    from webapp.studio.models import Clip

    clip = Clip.objects.get(job__model__slug=slug, job__prompt__text=prompt_text)
    path = Path(settings.MEDIA_ROOT) / clip.web.name
    probed = ffprobe(path, "-show_format", "-show_streams", "-show_packets")
    return {
        "gallery_container": {"format": probed["format"], "streams": probed["streams"]},
        "gallery_packets": probed["packets"],
        "gallery_size": [path.stat().st_size],
    }


def serve_and_reveal(args: argparse.Namespace, scratch: Path) -> list[dict]:
    """Battles served to rotating voters; one record per side: features and the revealed model."""
    from datetime import timedelta

    from django.utils import timezone

    from webapp.arena.models import Battle
    from webapp.arena.services import renditions

    rng = random.Random(args.seed)
    records: list[dict] = []
    client, served_to_client = None, 0
    deadline = time.monotonic() + args.max_minutes * 60
    while len(records) < 2 * args.battles and time.monotonic() < deadline:
        if client is None or served_to_client >= args.per_voter:
            client, served_to_client = new_voter(), 0
        answer = client.get("/api/v1/battles/next?pool=official")
        if answer.status_code == 404:
            client = None  # this voter has seen every clip revealed
            continue
        battle = answer.json()["battle"]
        public_id = battle["status_url"].rstrip("/").rsplit("/", 1)[1]
        if battle["state"] == "preparing":  # the arena worker's step, run here
            renditions.render(Battle.objects.get(public_id=public_id).pk, owner="bench pid 1")
        status, status_body, t_json = timed(client.get, battle["status_url"])
        battle = status.json()["battle"]
        page, page_body, t_page = timed(client.get, f"/arena/b/{public_id}/status")
        page_text = blank_ids(status_body.decode() + page_body.decode(), public_id)
        sides = {side: side_features(client, battle, side, scratch) for side in ("left", "right")}
        held = Battle.objects.get(public_id=public_id)
        moved_back = timezone.now() - timedelta(seconds=(held.duration_s or 0) + 1)
        Battle.objects.filter(pk=held.pk).update(left_fetched_at=moved_back, right_fetched_at=moved_back)
        vote = client.post(
            "/api/v1/votes",
            json.dumps({"token": battle["token"], "choice": rng.choice(["left", "right", "tie", "bothbad"])}),
            content_type="application/json",
        )
        if vote.status_code != 201:
            raise SystemExit(f"vote answered {vote.status_code}: {vote.content[:300]!r}")
        reveal = vote.json()["reveal"]
        for side, features in sides.items():
            features["page"] = [page_text, side]
            features["timing"] += [t_json, t_page]
            features.update(gallery_features(reveal[side]["model"], held.prompt.text))
            records.append({"battle": len(records) // 2, "model": reveal[side]["model"], **features})
        served_to_client += 1
        if len(records) % 40 == 0:
            print(f"  {len(records) // 2} battles served and revealed", flush=True)
    return records


# --- learning from reveals ----------------------------------------------------------------------


def leaves(value, path: str = "") -> dict[str, float]:
    """Every leaf of a JSON-like value as a number: numeric strings ("1/30", "4.000") parsed,
    other strings hashed, so that a field that differs by model is a dimension that differs."""
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for key, item in value.items():
            out.update(leaves(item, f"{path}.{key}"))
        return out
    if isinstance(value, list | tuple):
        out = {}
        for i, item in enumerate(value):
            out.update(leaves(item, f"{path}[{i}]"))
        out[f"{path}#len"] = float(len(value))
        return out
    if isinstance(value, bool | int | float):
        return {path: float(value)}
    text = str(value)
    try:
        if "/" in text:
            top, bottom = text.split("/", 1)
            return {path: float(top) / float(bottom) if float(bottom) else 0.0}
        return {path: float(text)}
    except ValueError:
        return {path: float(zlib.crc32(text.encode()))}


def exact_match(train: list, train_y: list[str], test: list) -> list[str]:
    fallback = Counter(train_y).most_common(1)[0][0]
    seen: dict[str, Counter] = {}
    for value, label in zip(train, train_y):
        seen.setdefault(_key(value), Counter())[label] += 1
    return [seen[k].most_common(1)[0][0] if (k := _key(value)) in seen else fallback for value in test]


def _key(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def nearest_neighbours(train: list, train_y: list[str], test: list, k: int = 5) -> list[str]:
    fallback = Counter(train_y).most_common(1)[0][0]
    train_leaves = [leaves(v) for v in train]
    names = sorted(set().union(*train_leaves))
    x = np.array([[row.get(n, np.nan) for n in names] for row in train_leaves], dtype=float)
    mean = np.nanmean(x, axis=0) if names else np.zeros(0)
    std = np.nanstd(x, axis=0) if names else np.zeros(0)
    varying = np.isfinite(std) & (std > 0)
    if not varying.any():
        return [fallback] * len(test)

    def scaled(rows: np.ndarray) -> np.ndarray:
        z = (rows[:, varying] - mean[varying]) / std[varying]
        return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)

    x = scaled(x)
    y = np.array(train_y)
    test_leaves = [leaves(v) for v in test]
    t = scaled(np.array([[row.get(n, np.nan) for n in names] for row in test_leaves], dtype=float))
    predictions = []
    for row in t:
        distance = np.sqrt(((x - row) ** 2).sum(axis=1))
        nearest = np.argsort(distance, kind="stable")[:k]
        votes = Counter(y[nearest])
        best = max(votes.values())
        tied = [label for label in votes if votes[label] == best]
        predictions.append(tied[0] if len(tied) == 1 else fallback if fallback in tied else tied[0])
    return predictions


def accuracy(predicted: list[str], truth: list[str]) -> float:
    return 100.0 * sum(p == t for p, t in zip(predicted, truth)) / len(truth)


def score(records: list[dict], families: list[str], train_share: float) -> dict:
    battles = sorted({r["battle"] for r in records})
    cut = battles[int(len(battles) * train_share)]
    train = [r for r in records if r["battle"] < cut]
    test = [r for r in records if r["battle"] >= cut]
    train_y, test_y = [r["model"] for r in train], [r["model"] for r in test]

    def value(record: dict) -> dict:
        return {family: record[family] for family in families}

    exact = accuracy(exact_match([value(r) for r in train], train_y, [value(r) for r in test]), test_y)
    knn = accuracy(nearest_neighbours([value(r) for r in train], train_y, [value(r) for r in test]), test_y)
    majority = Counter(train_y).most_common(1)[0][0]
    chance = accuracy([majority] * len(test), test_y)
    return {"exact": exact, "knn": knn, "best": max(exact, knn), "chance": chance, "n_test": len(test)}


def report(records: list[dict], train_share: float, models: list[str]) -> int:
    rows = [(f, [f]) for f in NON_VISUAL] + [("ALL NON-VISUAL", NON_VISUAL)]
    rows += [(f, [f]) for f in FROM_PICTURES] + [(f, [f]) for f in CONTROL]
    results = {name: score(records, families, train_share) for name, families in rows}
    n_test = results["size"]["n_test"]
    print(
        f"\n{len(records) // 2} battles, {len(models)} models, held-out sides: {n_test}, 1/K = {100 / len(models):.1f}%"
    )
    print(f"{'family':<22}{'exact %':>9}{'5-NN %':>9}{'best %':>9}{'chance %':>10}{'best - chance':>15}")
    for name, _ in rows:
        if name in (FROM_PICTURES[0], CONTROL[0]):
            heading = "derived from the pictures" if name == FROM_PICTURES[0] else "positive control: gallery files"
            print(f"-- {heading}")
        r = results[name]
        print(
            f"{name:<22}{r['exact']:>9.1f}{r['knn']:>9.1f}{r['best']:>9.1f}{r['chance']:>10.1f}{r['best'] - r['chance']:>+15.1f}"
        )
    overall = results["ALL NON-VISUAL"]
    control = max(results[f]["best"] - results[f]["chance"] for f in CONTROL)
    worst = max(results[f]["best"] - results[f]["chance"] for f in NON_VISUAL + ["ALL NON-VISUAL"])
    print(
        f"\nnon-visual, worst family or all together: {worst:+.1f} points over chance (target <= +{TARGET_POINTS:.0f})"
    )
    print(
        f"positive control: {control:+.1f} points over chance (must be > +{CONTROL_POINTS:.0f}, or the attacker is broken)"
    )
    failed = overall["best"] - overall["chance"] > TARGET_POINTS or control <= CONTROL_POINTS
    return 1 if failed else 0


def main() -> int:
    args = parse_args()
    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    data_dir = tempfile.mkdtemp(prefix="screentest-blindleak-")
    configure(args, data_dir)
    import django
    from django.core.management import call_command

    from tests.fakes.all_vendors import start_all, stop_all, worker_env

    FAKES.update(start_all())
    try:
        os.environ.update(worker_env(FAKES))
        django.setup()
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        models = make_clips(args.prompts)
        print(f"clips: {args.prompts} prompts x {len(models)} models in {time.monotonic() - started:.0f} s", flush=True)
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as scratch:
            records = serve_and_reveal(args, Path(scratch))
        print(f"served in {time.monotonic() - started:.0f} s", flush=True)
        return report(records, args.train, models)
    finally:
        stop_all(FAKES)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

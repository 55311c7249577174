"""Fake fal.ai queue API (also Pika, which is only sold through fal).

Sources: fal-ai/fal projects/fal_client/src/fal_client/client.py (submit to
queue.fal.run/{app_id}; status and result under [namespace/]owner/alias/requests/{id}, the
namespace being one of APP_NAMESPACES "workflows", "comfy"; `Authorization: Key ...`), and
each app's input schema as its fal model page publishes it (APPS below, one source each).
Status and result also answer on the full app-path form fal's OpenAPI lists.
A body outside the app's schema gets 422 {"detail": [{"loc", "msg", "type"}]}; an app the
fake does not know gets 404, as an unknown fal app does.
"""

from __future__ import annotations

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

API_KEY = "fal-test-key-0123456789:secret"
APPS = {
    # Pika 2.2 text-to-video, fal model page / OpenAPI for fal-ai/pika/v2.2/text-to-video.
    "fal-ai/pika/v2.2/text-to-video": {
        "prompt": Field(str, required=True),
        "negative_prompt": Field(str),
        "aspect_ratio": Field(str, enum=("16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3")),
        "resolution": Field(str, enum=("720p", "1080p")),
        "duration": Field(int, enum=(5, 10)),
        "seed": Field(int),
    },
    # LTX-2 Fast, https://fal.ai/models/fal-ai/ltx-2/text-to-video/fast/llms.txt
    "fal-ai/ltx-2/text-to-video/fast": {
        "prompt": Field(str, required=True),
        "duration": Field(int, enum=(6, 8, 10, 12, 14, 16, 18, 20)),
        "resolution": Field(str, enum=("1080p", "1440p", "2160p")),
        "fps": Field(int, enum=(25, 50)),
    },
    # Wan 2.2 A14B text-to-video (open weights). num_frames 17-161 and frames_per_second 4-60
    # (default 81 at 16): fal's own pages for the A14B family,
    # https://fal.ai/models/fal-ai/wan/v2.2-a14b/text-to-video/lora/llms.txt and
    # https://fal.ai/models/fal-ai/wan/v2.2-a14b/image-to-video/llms.txt; resolution 480p/580p/720p
    # and aspect ratio 16:9/9:16/1:1 for this endpoint from a public summary of fal's schema
    # (fal's page for it, https://fal.ai/models/fal-ai/wan/v2.2-a14b/text-to-video/api, was
    # only read as far as its queue example).
    "fal-ai/wan/v2.2-a14b/text-to-video": {
        "prompt": Field(str, required=True),
        "negative_prompt": Field(str),
        "num_frames": Field(int, minimum=17, maximum=161),
        "frames_per_second": Field(int, minimum=4, maximum=60),
        "seed": Field(int),
        "resolution": Field(str, enum=("480p", "580p", "720p")),
        "aspect_ratio": Field(str, enum=("16:9", "9:16", "1:1")),
        "num_inference_steps": Field(int),
        "enable_safety_checker": Field(bool),
        "enable_prompt_expansion": Field(bool),
        "acceleration": Field(str),
        "guidance_scale": Field(float),
        "guidance_scale_2": Field(float),
        "shift": Field(float),
    },
    # Test fixture, not a real app: a user's own workflow (fal documents no fixed schema for
    # workflows), to exercise the `workflows/` namespace.
    "workflows/screentest/text-to-video": {"prompt": Field(str, required=True), "duration": Field(int)},
}


def queue_root(app: str) -> str:
    parts = app.split("/")
    return "/".join(parts[:3] if parts[0] in ("workflows", "comfy") else parts[:2])


def _policy_detail(where: str = "prompt") -> dict:
    return {
        "detail": [
            {
                "loc": ["body", where],
                "msg": "The content could not be processed because it was flagged by a content checker.",
                "type": "content_policy_violation",
            }
        ]
    }


class FakeFal(FakeVendor):
    name = "fal"
    api_host = "queue.fal.run"
    media_host = "v3.fal.media"

    def routes(self):
        app = r"/(?P<app>(?:(?:workflows|comfy)/)?[\w.-]+/[\w.-]+(?:/[\w.-]+)*?)"
        return [
            ("GET", app + r"/requests/(?P<rid>[\w-]+)/status", self.status),
            ("GET", app + r"/requests/(?P<rid>[\w-]+)", self.result),
            ("PUT", app + r"/requests/(?P<rid>[\w-]+)/cancel", self.cancel),
            ("POST", app, self.submit),
        ]

    def authorized(self, req):
        if req.header("authorization") != f"Key {API_KEY}":
            return Reply(401, {"detail": "No user found for Key ID and Secret"})
        return None

    def submit(self, req, app):
        body = req.json
        if not isinstance(body, dict):
            return Reply(422, {"detail": [{"loc": ["body"], "msg": "must be a JSON object", "type": "type_error"}]})
        if app not in APPS:
            return Reply(404, {"detail": f"Application '{app}' not found"})
        errors = [{"loc": ["body", p.field], "msg": p.message, "type": p.code} for p in check(body, APPS[app])]
        if errors:
            return Reply(422, {"detail": errors}, {"X-Fal-Retryable": "false"})
        if "[[policy]]" in body["prompt"]:
            return Reply(422, _policy_detail(), {"X-Fal-Error-Type": "content_policy_violation"})
        job = self.new_job(body["prompt"], body, model=app)
        job.extra["app"] = app
        base = f"{self.vendor_url}/{queue_root(app)}/requests/{job.id}"
        return Reply(
            200,
            {
                "request_id": job.id,
                "response_url": base,
                "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel",
                "queue_position": 0,
            },
        )

    def _job(self, app, rid):
        job = self.jobs.get(rid)
        # fal answers on [namespace/]owner/alias (what its client builds) or the full app path.
        if job is None or app not in (queue_root(job.extra["app"]), job.extra["app"]):
            return None
        return job

    def status(self, req, app, rid):
        job = self._job(app, rid)
        if job is None:
            return Reply(404, {"detail": "Request not found"})
        state = self.advance(job)
        job.extra["state"] = state
        if state == "queued":
            return Reply(200, {"status": "IN_QUEUE", "queue_position": 0})
        if state == "running":
            return Reply(200, {"status": "IN_PROGRESS", "logs": [{"message": "generating"}]})
        done = {
            "status": "COMPLETED",
            "logs": [],
            "metrics": {"inference_time": 1.2},
            "error": None,
            "error_type": None,
        }
        if state == "policy":
            done.update(error="Output flagged by content checker", error_type="content_policy_violation")
        elif state != "done":
            done.update(error="Internal error while running the model", error_type="runner_disconnected")
        return Reply(200, done)

    def result(self, req, app, rid):
        job = self._job(app, rid)
        if job is None:
            return Reply(404, {"detail": "Request not found"})
        state = job.extra.get("state")
        if state == "policy":
            return Reply(422, _policy_detail("output"))
        if state != "done":
            return Reply(
                400,
                {
                    "detail": "Request is still in progress"
                    if state in (None, "queued", "running")
                    else "Request failed"
                },
            )
        return Reply(
            200,
            {
                "video": {
                    "url": self.media_url(job),
                    "content_type": "video/mp4",
                    "file_name": "output.mp4",
                    "file_size": 12345,
                },
                "seed": 42,
            },
        )

    def cancel(self, req, app, rid):
        job = self._job(app, rid)
        if job is None:
            return Reply(404, {"detail": "Request not found"})
        job.cancelled = True
        return Reply(202, {"status": "CANCELLATION_REQUESTED"})

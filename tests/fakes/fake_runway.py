"""Fake Runway API (text_to_video + tasks).

Source: runwayml/sdk-python, generated from Runway's OpenAPI document:
src/runwayml/types/text_to_video_create_params.py (a union by `model`: each model's own fields,
camelCase on the wire), src/runwayml/types/task_retrieve_response.py (task states),
https://docs.dev.runwayml.com/errors/task-failures/ (failureCode values) and
https://docs.dev.runwayml.com/assets/outputs (output URLs on dnznrvs05pmza.cloudfront.net).
A request outside the model's schema gets 400 {"error", "issues": [...], "docUrl"}.
"""

from __future__ import annotations

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

API_KEY = "key_test_runway_0123456789"
VERSION = "2024-11-06"
PROMPT_1000 = Field(str, required=True, max_length=1000, utf16=True)
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
MODELS = {
    "gen4.5": {
        "promptText": PROMPT_1000,
        "ratio": Field(str, required=True, enum=("1280:720", "720:1280")),
        "duration": Field(int, required=True, minimum=2, maximum=10),
        "seed": Field(int, minimum=0, maximum=4294967295),
        "contentModeration": Field(dict),
    },
    "veo3.1": {
        "promptText": PROMPT_1000,
        "ratio": Field(str, required=True, enum=VEO_RATIOS),
        "duration": Field(int, enum=(4, 6, 8)),
        "audio": Field(bool),
        "negativePrompt": Field(str),
    },
    "veo3": {
        "promptText": PROMPT_1000,
        "ratio": Field(str, required=True, enum=VEO_RATIOS),
        "duration": Field(int, required=True, enum=(8,)),
        "negativePrompt": Field(str),
    },
    "gemini_omni_flash": {
        "promptText": Field(str, required=True),
        "ratio": Field(str, enum=("1280:720", "720:1280")),
        "duration": Field(int, minimum=3, maximum=10),
    },
}
MODELS["veo3.1_fast"] = MODELS["veo3.1"]
ISSUE_CODES = {"unknown": "unrecognized_keys", "missing": "invalid_type", "type": "invalid_type"}


class FakeRunway(FakeVendor):
    name = "runway"
    api_host = "api.dev.runwayml.com"
    media_host = "dnznrvs05pmza.cloudfront.net"
    queued_polls = 2  # PENDING, then THROTTLED (as an over-concurrency task is), then RUNNING

    def routes(self):
        return [
            ("POST", r"/v1/text_to_video", self.create),
            ("GET", r"/v1/tasks/(?P<tid>[\w-]+)", self.task),
            ("DELETE", r"/v1/tasks/(?P<tid>[\w-]+)", self.delete),
        ]

    def authorized(self, req):
        if req.header("authorization") != f"Bearer {API_KEY}":
            return Reply(401, {"error": "Invalid API key"})
        if req.header("x-runway-version") != VERSION:
            return Reply(400, {"error": "X-Runway-Version header is missing or invalid."})
        return None

    def create(self, req):
        body = req.json
        if not isinstance(body, dict):
            return Reply(400, {"error": "Body must be JSON"})
        fields = MODELS.get(body.get("model"))
        if fields is None:
            issues = [{"code": "invalid_union_discriminator", "path": ["model"], "message": "Invalid model"}]
        else:
            rest = {k: v for k, v in body.items() if k != "model"}
            issues = [
                {"code": ISSUE_CODES.get(p.code, "invalid_enum_value"), "path": [p.field], "message": p.message}
                for p in check(rest, fields)
            ]
        if issues:
            return Reply(
                400,
                {
                    "error": f"Invalid parameter '{'.'.join(issues[0]['path'])}'",
                    "issues": issues,
                    "docUrl": "https://docs.dev.runwayml.com/errors/errors",
                },
            )
        job = self.new_job(body["promptText"], body, model=body["model"])
        if "policy" in job.flags:  # Runway moderates asynchronously: the task fails with SAFETY.*
            job.flags.add("policy-async")
        return Reply(200, {"id": job.id})

    def task(self, req, tid):
        job = self.jobs.get(tid)
        if job is None:
            return Reply(404, {"error": "Task not found"})
        base = {"id": job.id, "createdAt": "2026-11-21T12:00:00.000Z"}
        state = self.advance(job)
        if state == "queued":
            return Reply(200, {**base, "status": "PENDING" if job.polls == 1 else "THROTTLED"})
        if state == "running":
            return Reply(200, {**base, "status": "RUNNING", "progress": 0.42})
        if state == "done":
            return Reply(200, {**base, "status": "SUCCEEDED", "output": [self.media_url(job)]})
        if state == "policy":
            return Reply(
                200,
                {
                    **base,
                    "status": "FAILED",
                    "failure": "The prompt did not pass moderation.",
                    "failureCode": "SAFETY.INPUT.TEXT",
                },
            )
        if state == "cancelled":
            return Reply(200, {**base, "status": "CANCELLED"})
        if state == "bad-output":
            return Reply(
                200,
                {
                    **base,
                    "status": "FAILED",
                    "failure": "The output did not pass our quality checks.",
                    "failureCode": "INTERNAL.BAD_OUTPUT.CODE01",
                },
            )
        return Reply(
            200, {**base, "status": "FAILED", "failure": "An unexpected error occurred.", "failureCode": "INTERNAL"}
        )

    def delete(self, req, tid):
        job = self.jobs.get(tid)
        if job is None:
            return Reply(404, {"error": "Task not found"})
        job.cancelled = True
        return Reply(204)

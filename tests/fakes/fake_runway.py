"""Fake Runway API, per shared/reference/vendor-apis.md section 2."""

from __future__ import annotations

from .vendor_server import FakeVendor, Reply

API_KEY = "key_test_runway_0123456789"
VERSION = "2024-11-06"
MODELS = {
    "gen4.5": {"ratios": {"1280:720", "720:1280"}, "durations": range(2, 11)},
    "veo3.1": {"ratios": {"1280:720", "720:1280", "1080:1920", "1920:1080"}, "durations": {4, 6, 8}},
}


class FakeRunway(FakeVendor):
    name = "runway"
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
        model = MODELS.get(body.get("model"))
        issues = []
        if model is None:
            issues.append({"code": "invalid_enum_value", "path": ["model"], "message": "Invalid model"})
        text = body.get("promptText")
        if not isinstance(text, str) or not text or len(text.encode("utf-16-le")) // 2 > 1000:
            issues.append({"code": "invalid_string", "path": ["promptText"], "message": "promptText is required"})
        if model and body.get("ratio") not in model["ratios"]:
            issues.append({"code": "invalid_enum_value", "path": ["ratio"], "message": "Invalid ratio"})
        duration = body.get("duration")
        if model and (
            not isinstance(duration, int) or isinstance(duration, bool) or duration not in model["durations"]
        ):
            issues.append({"code": "invalid_type", "path": ["duration"], "message": "Invalid duration"})
        for snake in ("prompt_text", "negative_prompt"):
            if snake in body:
                issues.append({"code": "unrecognized_keys", "path": [snake], "message": "Unrecognized key"})
        if issues:
            return Reply(
                400,
                {
                    "error": f"Invalid parameter '{'.'.join(issues[0]['path'])}'",
                    "issues": issues,
                    "docUrl": "https://docs.dev.runwayml.com/errors/errors",
                },
            )
        job = self.new_job(text, body)
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
        return Reply(
            200, {**base, "status": "FAILED", "failure": "An unexpected error occurred.", "failureCode": "INTERNAL"}
        )

    def delete(self, req, tid):
        job = self.jobs.get(tid)
        if job is None:
            return Reply(404, {"error": "Task not found"})
        job.cancelled = True
        return Reply(204)

"""Fake fal.ai queue API (also Pika, which is only sold through fal), per
shared/reference/vendor-apis.md sections 5 and 8. Status and result answer on both the short
`{owner}/{alias}/requests/{id}` form and the full app-path form."""

from __future__ import annotations

from .vendor_server import FakeVendor, Reply

API_KEY = "fal-test-key-0123456789:secret"
PIKA_ENUMS = {"aspect_ratio": {"16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"}, "resolution": {"720p", "1080p"}}


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

    def routes(self):
        app = r"/(?P<app>[\w.-]+/[\w.-]+(?:/[\w.-]+)*?)"
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
        errors = []
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            errors.append({"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"})
        if "pika" in app:
            for name, allowed in PIKA_ENUMS.items():
                if name in body and body[name] not in allowed:
                    errors.append(
                        {
                            "loc": ["body", name],
                            "msg": f"unexpected value; permitted: {sorted(allowed)}",
                            "type": "value_error.const",
                        }
                    )
            if "duration" in body and body["duration"] not in (5, 10):
                errors.append({"loc": ["body", "duration"], "msg": "permitted: 5, 10", "type": "value_error.const"})
        if errors:
            return Reply(422, {"detail": errors}, {"X-Fal-Retryable": "false"})
        if "[[policy]]" in body["prompt"]:
            return Reply(422, _policy_detail(), {"X-Fal-Error-Type": "content_policy_violation"})
        job = self.new_job(body["prompt"], body)
        job.extra["app"] = app
        root = "/".join(app.split("/")[:2])
        base = f"{self.url}/{root}/requests/{job.id}"
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
        if job is None or not job.extra["app"].startswith(app):
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

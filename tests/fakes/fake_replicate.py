"""Fake Replicate predictions API, per shared/reference/vendor-apis.md section 7."""

from __future__ import annotations

import uuid

from .vendor_server import FakeVendor, Reply

API_TOKEN = "r8_test_replicate_0123456789"
E005 = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"


def problem(status: int, title: str, detail: str) -> Reply:
    return Reply(
        status,
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        {"Content-Type": "application/problem+json"},
    )


class FakeReplicate(FakeVendor):
    name = "replicate"

    def routes(self):
        return [
            ("POST", r"/v1/models/(?P<owner>[\w.-]+)/(?P<model>[\w.-]+)/predictions", self.create),
            ("POST", r"/v1/predictions", self.create),
            ("GET", r"/v1/predictions/(?P<pid>\w+)", self.get),
            ("POST", r"/v1/predictions/(?P<pid>\w+)/cancel", self.cancel),
        ]

    def authorized(self, req):
        if req.header("authorization") not in (f"Bearer {API_TOKEN}", f"Token {API_TOKEN}"):
            return problem(401, "Unauthenticated", "You did not pass a valid authentication token")
        return None

    def prediction(self, job, status, **extra):
        return {
            "id": job.id,
            "model": job.extra["model"],
            "version": job.extra.get("version") or "fakeversion",
            "status": status,
            "input": job.request,
            "output": None,
            "logs": "",
            "error": None,
            "metrics": {},
            "created_at": "2026-11-21T12:00:00Z",
            "data_removed": False,
            "urls": {
                "get": f"{self.url}/v1/predictions/{job.id}",
                "cancel": f"{self.url}/v1/predictions/{job.id}/cancel",
            },
            **extra,
        }

    def create(self, req, owner=None, model=None):
        body = req.json if isinstance(req.json, dict) else {}
        data = body.get("input")
        if not isinstance(data, dict) or not isinstance(data.get("prompt"), str) or not data["prompt"]:
            return problem(422, "Input validation failed", "input.prompt is required")
        if owner is None and not body.get("version"):
            return problem(422, "Invalid version or not permitted", "version is required")
        job = self.new_job(data["prompt"], data, job_id=uuid.uuid4().hex[:20])
        job.extra.update(model=f"{owner}/{model}" if owner else "unknown/unknown", version=body.get("version"))
        if "policy" in job.flags:  # Replicate reports policy refusals as a failed prediction
            job.flags.add("policy-async")
        return Reply(201, self.prediction(job, "starting"))

    def get(self, req, pid):
        job = self.jobs.get(pid)
        if job is None:
            return problem(404, "Not found", "The requested resource could not be found")
        state = self.advance(job)
        if state in ("queued", "running"):
            return Reply(200, self.prediction(job, "starting" if state == "queued" else "processing"))
        if state == "done":
            return Reply(
                200, self.prediction(job, "succeeded", output=self.media_url(job), metrics={"predict_time": 1.5})
            )
        if state == "cancelled":
            return Reply(200, self.prediction(job, "canceled"))
        return Reply(200, self.prediction(job, "failed", error=E005 if state == "policy" else "CUDA out of memory"))

    def cancel(self, req, pid):
        job = self.jobs.get(pid)
        if job is None:
            return problem(404, "Not found", "The requested resource could not be found")
        job.cancelled = True
        return Reply(200, self.prediction(job, "canceled"))

"""Fake Replicate predictions API.

Sources: replicate/replicate-python (replicate/prediction.py: the Prediction object, statuses
starting | processing | succeeded | failed | canceled; replicate/exceptions.py: RFC 7807
problem bodies), Replicate's HTTP API docs (POST /v1/models/{owner}/{name}/predictions,
POST /v1/predictions with a version, output files on replicate.delivery), and each model's
input schema from its page on replicate.com (MODELS below, one source each).
Inputs outside the model's schema get 422 "Input validation failed" with `invalid_fields`
(Replicate validates inputs against the model's OpenAPI schema); an unknown model gets 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

API_TOKEN = "r8_test_replicate_0123456789"
MODELS = {
    # https://replicate.com/minimax/video-01/api: no aspect ratio, no duration (6 s, 720p).
    "minimax/video-01": {
        "prompt": Field(str, required=True),
        "prompt_optimizer": Field(bool),
        "first_frame_image": Field(str),
        "subject_reference": Field(str),
    },
}
# Version ids the fake knows, and the model each belongs to (test fixtures, not real ids).
VERSIONS = {"fakeversion0minimax": "minimax/video-01"}
E005 = "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"


def problem(status: int, title: str, detail: str) -> Reply:
    return Reply(
        status,
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        {"Content-Type": "application/problem+json"},
    )


class FakeReplicate(FakeVendor):
    name = "replicate"
    api_host = "api.replicate.com"
    media_host = "replicate.delivery"

    def routes(self):
        return [
            ("POST", r"/v1/models/(?P<owner>[\w.-]+)/(?P<model>[\w.-]+)/predictions", self.create),
            ("POST", r"/v1/predictions", self.create),
            ("GET", r"/v1/predictions", self.list_predictions),
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
            "created_at": job.extra.get("created_at", "2026-11-21T12:00:00Z"),
            "source": "api",
            "data_removed": False,
            "urls": {
                "get": f"{self.vendor_url}/v1/predictions/{job.id}",
                "cancel": f"{self.vendor_url}/v1/predictions/{job.id}/cancel",
            },
            **extra,
        }

    def create(self, req, owner=None, model=None):
        body = req.json if isinstance(req.json, dict) else {}
        version = body.get("version")
        name = f"{owner}/{model}" if owner else VERSIONS.get(str(version or ""))
        if name is None:
            return problem(422, "Invalid version or not permitted", "The specified version does not exist")
        if name not in MODELS:
            return problem(404, "Not found", f"Model {name} not found")
        data = body.get("input")
        if not isinstance(data, dict):
            return problem(422, "Input validation failed", "input is required")
        invalid = [
            {"type": p.code, "field": f"input.{p.field}", "description": p.message} for p in check(data, MODELS[name])
        ]
        if invalid:
            detail = "\n".join(f"- {item['field']}: {item['description']}" for item in invalid)
            reply = problem(422, "Input validation failed", detail)
            reply.body["invalid_fields"] = invalid
            return reply
        job = self.new_job(data["prompt"], data, job_id=uuid.uuid4().hex[:20], model=str(version or name))
        job.extra.update(
            model=name,
            version=version,
            seq=len(self.jobs),
            created_at=datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
        )
        if "policy" in job.flags:  # Replicate reports policy refusals as a failed prediction
            job.flags.add("policy-async")
        return Reply(201, self.prediction(job, "starting"))

    def list_predictions(self, req):
        """GET /v1/predictions (Replicate HTTP API reference, "List predictions"): every
        prediction of the token's account, newest first, 100 per page, as
        {"next", "previous", "results": [prediction...]}. Listing does not move a job along."""
        with self.lock:
            jobs = sorted(self.jobs.values(), key=lambda j: j.extra.get("seq", 0), reverse=True)
            results = [self.prediction(job, "starting") for job in jobs[:100]]
        return Reply(200, {"next": None, "previous": None, "results": results})

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

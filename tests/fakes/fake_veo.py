"""Fake Gemini API for Veo (predictLongRunning + operations + files), per
shared/reference/vendor-apis.md section 6. The file download answers with a 302 to /blob/...,
as Google's does, so the adapter's redirect re-checks are exercised on every download."""

from __future__ import annotations

import uuid

from .vendor_server import FakeVendor, Reply

API_KEY = "AIza-test-veo-0123456789"
VERTEX_ONLY = {"seed", "generateAudio", "fps", "outputGcsUri", "pubsubTopic", "compressionQuality"}


def rpc_error(code: int, status: str, message: str, **extra) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status, **extra}})


class FakeVeo(FakeVendor):
    name = "veo"

    def routes(self):
        return [
            ("POST", r"/v1beta/models/(?P<model>[\w.-]+):predictLongRunning", self.create),
            ("GET", r"/v1beta/models/(?P<model>[\w.-]+)/operations/(?P<op>[\w-]+)", self.operation),
            ("GET", r"/v1beta/files/(?P<fid>[\w-]+):download", self.file),
            ("GET", r"/blob/(?P<fid>[\w-]+)", self.blob),
        ]

    def authorized(self, req):
        if req.path.startswith("/blob/"):
            return None  # the signed blob URL needs no key
        key = req.header("x-goog-api-key") or (req.query.get("key") or [None])[0]
        if key != API_KEY:
            return rpc_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
            )
        return None

    def create(self, req, model):
        body = req.json if isinstance(req.json, dict) else {}
        instances = body.get("instances") or [{}]
        params = body.get("parameters") or {}
        prompt = instances[0].get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return rpc_error(400, "INVALID_ARGUMENT", "prompt is required")
        unsupported = VERTEX_ONLY & set(params)
        if unsupported:
            return rpc_error(400, "INVALID_ARGUMENT", f"{sorted(unsupported)[0]} isn't supported by the Gemini API")
        if params.get("durationSeconds", 8) not in (4, 5, 6, 8):
            return rpc_error(400, "INVALID_ARGUMENT", "durationSeconds out of range")
        if params.get("aspectRatio", "16:9") not in ("16:9", "9:16"):
            return rpc_error(400, "INVALID_ARGUMENT", "aspectRatio must be 16:9 or 9:16")
        if params.get("resolution", "720p") not in ("720p", "1080p"):
            return rpc_error(400, "INVALID_ARGUMENT", "resolution must be 720p or 1080p")
        if "[[policy]]" in prompt:
            return rpc_error(400, "INVALID_ARGUMENT", "The prompt violates the usage guidelines (safety filter).")
        job = self.new_job(prompt, body, job_id=uuid.uuid4().hex[:12])
        job.extra["model"] = model
        return Reply(200, {"name": f"models/{model}/operations/{job.id}"})

    def operation(self, req, model, op):
        job = self.jobs.get(op)
        if job is None or job.extra["model"] != model:
            return rpc_error(404, "NOT_FOUND", "Operation not found")
        name = f"models/{model}/operations/{op}"
        state = self.advance(job)
        if state in ("queued", "running"):
            return Reply(200, {"name": name, "done": False})
        if state == "failed":
            return Reply(200, {"name": name, "done": True, "error": {"code": 13, "message": "Internal error"}})
        answer = {"raiMediaFilteredCount": 0, "raiMediaFilteredReasons": [], "generatedSamples": []}
        if state == "policy":
            answer.update(
                raiMediaFilteredCount=1,
                raiMediaFilteredReasons=["Video generation was blocked because it may violate our policies."],
            )
        else:
            answer["generatedSamples"] = [{"video": {"uri": f"{self.url}/v1beta/files/{job.id}:download?alt=media"}}]
        return Reply(
            200,
            {
                "name": name,
                "done": True,
                "response": {
                    "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                    "generateVideoResponse": answer,
                },
            },
        )

    def file(self, req, fid):
        if fid not in self.jobs:
            return rpc_error(404, "NOT_FOUND", "File not found")
        return Reply(302, headers={"Location": f"/blob/{fid}"})

    def blob(self, req, fid):
        return self.media_reply(self.jobs.get(fid))

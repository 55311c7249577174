"""Fake Gemini API for Veo (predictLongRunning + operations + files).

Source: googleapis/python-genai google/genai/models.py (_GenerateVideosConfig_to_mldev: the
parameters the Gemini API takes, sampleCount, durationSeconds, aspectRatio, resolution,
personGeneration, negativePrompt, enhancePrompt, and those it refuses: seed, fps,
generateAudio, outputGcsUri, pubsubTopic, mask, compressionQuality) and google/genai/types.py
(operations, generatedSamples[].video.uri); the Gemini API Veo docs for the values (Veo 3.x:
4/6/8 s; Veo 2: 5-8 s; 16:9 | 9:16; 720p | 1080p). An unknown field gets Google's
'Invalid JSON payload received. Unknown name' 400. The file download answers with a 302 to
/blob/..., so the adapter's redirect re-checks are exercised on every download.
"""

from __future__ import annotations

import uuid

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

API_KEY = "AIza-test-veo-0123456789"
VERTEX_ONLY = {"seed", "generateAudio", "fps", "outputGcsUri", "pubsubTopic", "compressionQuality", "mask"}
VEO3_SECONDS = (4, 6, 8)
DURATIONS = {
    "veo-3.1-generate-preview": VEO3_SECONDS,
    "veo-3.1-fast-generate-preview": VEO3_SECONDS,
    "veo-3.0-generate-001": VEO3_SECONDS,
    "veo-3.0-fast-generate-001": VEO3_SECONDS,
    "veo-2.0-generate-001": (5, 6, 7, 8),
}
INSTANCE_FIELDS = {
    "prompt": Field(str, required=True),
    "image": Field(dict),
    "lastFrame": Field(dict),
    "referenceImages": Field(list),
    "video": Field(dict),
}


def parameter_fields(model: str) -> dict[str, Field]:
    return {
        "aspectRatio": Field(str, enum=("16:9", "9:16")),
        "durationSeconds": Field(int, enum=DURATIONS[model]),
        "resolution": Field(str, enum=("720p", "1080p")),
        "negativePrompt": Field(str),
        "personGeneration": Field(str, enum=("dont_allow", "allow_adult", "allow_all")),
        "sampleCount": Field(int, minimum=1, maximum=4),
        "enhancePrompt": Field(bool),
    }


def rpc_error(code: int, status: str, message: str, **extra) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status, **extra}})


class FakeVeo(FakeVendor):
    name = "veo"
    api_host = "generativelanguage.googleapis.com"
    # Google does not document where a file download redirects to; any *.googleusercontent.com
    # host stands in for it (the adapter allows that domain).
    media_host = "video-downloads.googleusercontent.com"

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
        if model not in DURATIONS:
            return rpc_error(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta")
        instances = body.get("instances") or [{}]
        params = body.get("parameters") or {}
        unsupported = VERTEX_ONLY & set(params)
        if unsupported:
            return rpc_error(400, "INVALID_ARGUMENT", f"{sorted(unsupported)[0]} isn't supported by the Gemini API")
        problems = [
            *check(
                {k: v for k, v in body.items() if k not in ("instances", "parameters")}, {"webhookConfig": Field(dict)}
            ),
            *check(instances[0], INSTANCE_FIELDS, prefix="instances[0]."),
            *check(params, parameter_fields(model), prefix="parameters."),
        ]
        for problem in problems:
            if problem.code == "unknown":
                message = f'Invalid JSON payload received. Unknown name "{problem.field.rsplit(".", 1)[-1]}"'
                return rpc_error(400, "INVALID_ARGUMENT", message)
            return rpc_error(400, "INVALID_ARGUMENT", problem.message)
        prompt = instances[0]["prompt"]
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
            uri = f"{self.vendor_url}/v1beta/files/{job.id}:download?alt=media"
            answer["generatedSamples"] = [{"video": {"uri": uri}}]
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
        return Reply(302, headers={"Location": f"{self.media_origin}/blob/{fid}"})

    def blob(self, req, fid):
        return self.media_reply(self.jobs.get(fid))

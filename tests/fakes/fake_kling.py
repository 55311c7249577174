"""Fake Kling API, per shared/reference/vendor-apis.md section 4. The JWT is verified with
PyJWT (independently of the adapter's own HS256 code)."""

from __future__ import annotations

import itertools
import time

import jwt

from .vendor_server import FakeVendor, Reply

ACCESS_KEY = "ak-test-kling-0123456789"
SECRET_KEY = "sk-test-kling-secret-0123456789abcdef"
MODELS = {"kling-v1", "kling-v1-6", "kling-v2-master", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6"}
_ids = itertools.count(867283741759111202)


def envelope(code: int, message: str, data=None) -> dict:
    body = {"code": code, "message": message, "request_id": "fake-req-" + str(next(_ids))}
    if data is not None:
        body["data"] = data
    return body


class FakeKling(FakeVendor):
    name = "kling"

    def routes(self):
        return [
            ("POST", r"/v1/videos/text2video", self.create),
            ("GET", r"/v1/videos/text2video/(?P<tid>[\w-]+)", self.query),
        ]

    def authorized(self, req):
        header = req.header("authorization") or ""
        if not header.startswith("Bearer "):
            return Reply(401, envelope(1001, "Authorization is empty"))
        try:
            claims = jwt.decode(
                header[7:], SECRET_KEY, algorithms=["HS256"], options={"require": ["iss", "exp", "nbf"]}
            )
        except jwt.ImmatureSignatureError:
            return Reply(401, envelope(1003, "Authorization is not yet valid"))
        except jwt.ExpiredSignatureError:
            return Reply(401, envelope(1004, "Authorization has expired"))
        except jwt.PyJWTError:
            return Reply(401, envelope(1002, "Authorization is invalid"))
        if claims.get("iss") != ACCESS_KEY:
            return Reply(401, envelope(1002, "Authorization is invalid"))
        return None

    def create(self, req):
        body = req.json if isinstance(req.json, dict) else {}
        model = body.get("model_name", "kling-v1")
        prompt = body.get("prompt")
        if model not in MODELS:
            return Reply(404, envelope(1203, f"model {model} not found"))
        if not isinstance(prompt, str) or not prompt or len(prompt) > 2500:
            return Reply(400, envelope(1201, "prompt is required"))
        if body.get("duration", "5") not in ("5", "10"):
            return Reply(400, envelope(1201, "duration must be the string '5' or '10'"))
        if body.get("aspect_ratio", "16:9") not in ("16:9", "9:16", "1:1"):
            return Reply(400, envelope(1201, "aspect_ratio invalid"))
        if body.get("mode", "std") not in ("std", "pro"):
            return Reply(400, envelope(1201, "mode invalid"))
        if "cfg_scale" in body and model.startswith("kling-v2"):
            return Reply(400, envelope(1201, "cfg_scale is not supported by this model"))
        external = body.get("external_task_id")
        if external and any(j.extra.get("external") == external for j in self.jobs.values()):
            return Reply(400, envelope(1201, "external_task_id already exists"))
        if "[[policy]]" in prompt:
            return Reply(400, envelope(1301, "Trigger the content security policy"))
        job = self.new_job(prompt, body, job_id=str(next(_ids)))
        job.extra.update(external=external, created=int(time.time() * 1000))
        return Reply(200, envelope(0, "SUCCEED", self.task(job, "submitted")))

    def task(self, job, status, **extra):
        return {
            "task_id": job.id,
            "task_status": status,
            "task_info": {"external_task_id": job.extra.get("external")},
            "created_at": job.extra["created"],
            "updated_at": int(time.time() * 1000),
            **extra,
        }

    def query(self, req, tid):
        job = self.jobs.get(tid) or next((j for j in self.jobs.values() if j.extra.get("external") == tid), None)
        if job is None:
            return Reply(404, envelope(1203, "task not found"))
        state = self.advance(job)
        if state in ("queued", "running"):
            return Reply(
                200, envelope(0, "SUCCEED", self.task(job, "submitted" if state == "queued" else "processing"))
            )
        if state == "done":
            video = {"id": "v-" + job.id, "url": self.media_url(job), "duration": job.request.get("duration", "5")}
            return Reply(
                200,
                envelope(0, "SUCCEED", self.task(job, "succeed", task_status_msg="", task_result={"videos": [video]})),
            )
        message = (
            "Failure to pass the risk control system" if state == "policy" else "Task failed, please try again later"
        )
        return Reply(200, envelope(0, "SUCCEED", self.task(job, "failed", task_status_msg=message)))

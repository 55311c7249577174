"""Fake Kling API (text2video).

Source: Kling's API reference (Kling AI developer docs): "General Info" (JWT auth with
HS256 {iss, exp, nbf}; the error-code table: 1000-1004 auth, 1200/1201 invalid request /
parameters, 1203 resource not found, 1301 content security policy, 1302/1303 rate and
concurrency, 1304 IP whitelisting) and "Video Generation > Text to Video" (model_name,
prompt, negative_prompt, cfg_scale, mode std|pro, camera_control, aspect_ratio 16:9|9:16|1:1,
duration as a string, sound on|off from kling-v2-6 on, multi_shot / shot_type /
multi_prompt, watermark_info, callback_url, external_task_id; task_status submitted |
processing | succeed | failed). Media are served from *.klingai.com.
Kling documents external_task_id as unique per account but no answer for a reused one: the
fake answers it with the documented generic 1201 (invalid parameters), nothing more specific.
"""

from __future__ import annotations

import itertools
import time

import jwt

from .schema import Field, check
from .vendor_server import FakeVendor, Reply

ACCESS_KEY = "ak-test-kling-0123456789"
SECRET_KEY = "sk-test-kling-secret-0123456789abcdef"
CLASSIC = ("5", "10")
DURATIONS = {
    "kling-v1": CLASSIC,
    "kling-v1-6": CLASSIC,
    "kling-v2-master": CLASSIC,
    "kling-v2-1-master": CLASSIC,
    "kling-v2-5-turbo": CLASSIC,
    "kling-v2-6": CLASSIC,
    "kling-v3": tuple(str(s) for s in range(3, 16)),
}
WITH_SOUND = {"kling-v2-6", "kling-v3"}
COMMON_FIELDS = {
    "model_name": Field(str, enum=tuple(DURATIONS)),
    "prompt": Field(str, required=True, max_length=2500),
    "negative_prompt": Field(str, max_length=2500),
    "cfg_scale": Field(float, minimum=0, maximum=1),
    "mode": Field(str, enum=("std", "pro")),
    "camera_control": Field(dict),
    "aspect_ratio": Field(str, enum=("16:9", "9:16", "1:1")),
    "callback_url": Field(str),
    "external_task_id": Field(str),
    "sound": Field(str, enum=("on", "off")),
    "multi_shot": Field(bool),
    "shot_type": Field(str, enum=("customize", "intelligence")),
    "multi_prompt": Field(list),
    "watermark_info": Field(dict),
}
_ids = itertools.count(867283741759111202)


def envelope(code: int, message: str, data=None) -> dict:
    body = {"code": code, "message": message, "request_id": "fake-req-" + str(next(_ids))}
    if data is not None:
        body["data"] = data
    return body


class FakeKling(FakeVendor):
    name = "kling"
    api_host = "api-singapore.klingai.com"
    media_host = "p2-kling.klingai.com"  # a media host in Kling's own docs

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
        fields = {**COMMON_FIELDS, "duration": Field(str, enum=DURATIONS.get(model, CLASSIC))}
        problems = check(body, fields)
        if model not in DURATIONS:
            return Reply(404, envelope(1203, f"model {model} not found"))
        if "cfg_scale" in body and not model.startswith("kling-v1"):
            problems.append("cfg_scale is not supported by kling-v2.x models")
        if "sound" in body and model not in WITH_SOUND:
            problems.append("sound is supported by kling-v2-6 and later models only")
        external = body.get("external_task_id")
        if external and any(j.extra.get("external") == external for j in self.jobs.values()):
            problems.append("external_task_id")
        if problems:
            first = problems[0]
            return Reply(400, envelope(1201, f"Invalid parameters: {getattr(first, 'message', first)}"))
        if "[[policy]]" in body["prompt"]:
            return Reply(400, envelope(1301, "Trigger the content security policy"))
        job = self.new_job(body["prompt"], body, job_id=str(next(_ids)), model=model)
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

"""Replicate predictions: any Replicate-hosted video model from catalog data alone.

catalog params: `replicate_model` ("owner/name", official models) or `version` (a version id),
`input_fields`, `duration_format` (with `frames_per_second` for "frames"), `extra_input`, `durations`, `sizes`, `audio`, `output_path`
(default "output", a URL string; "output.0" for a list), and `sources` (the model's page).
create: POST /v1/models/{owner}/{name}/predictions {"input": {...}} (or POST /v1/predictions
        {"version", "input"})
poll:   GET /v1/predictions/{id}: starting / processing -> succeeded | failed | canceled
policy: failed with error "... flagged as sensitive ... (E005)".
Output files are deleted an hour after the prediction: downloaded right away.
"""

from __future__ import annotations

from .base import PermanentError, VendorPolicyRejection
from .hosted import hosted_capabilities
from .vendor import Poll, PollingBackend, dig, model_input, sounds_like_policy


class ReplicateBackend(PollingBackend):
    key = "replicate"
    vendor = "Replicate"
    default_base_url = "https://api.replicate.com"
    # Replicate's output files (replicate.com docs: outputs are served from replicate.delivery).
    default_download_hosts = ("replicate.delivery", ".replicate.delivery")
    key_env_names = ("REPLICATE_API_TOKEN",)
    default_poll_interval_s = 2.0

    @classmethod
    def capabilities(cls, params):
        return hosted_capabilities(params, host="Replicate")

    def create(self, client, request, config):
        body = {"input": model_input(request, config, self.seconds_sent(request, config))}
        params = config.params
        if params.get("replicate_model"):
            path = f"v1/models/{params['replicate_model'].strip('/')}/predictions"
        elif params.get("version"):
            path, body["version"] = "v1/predictions", params["version"]
        else:
            raise PermanentError("catalog params need replicate_model or version", code="invalid_request")
        return str(client.json("POST", path, json=body)["id"])

    def check(self, client, job_id, config):
        prediction = client.json("GET", f"v1/predictions/{job_id}")
        status = prediction.get("status")
        if status == "succeeded":
            return Poll(True, prediction)
        if status in ("starting", "processing"):
            return Poll(False)
        error = str(prediction.get("error") or "")
        message = f"prediction {job_id} {status}: {error}"
        if "E005" in error or sounds_like_policy(error):
            raise VendorPolicyRejection(message)
        raise PermanentError(message, code="vendor_cancelled" if status == "canceled" else "vendor_failed")

    def fetch(self, client, job_id, payload, dest, config, api_key):
        self._output_path = config.params.get("output_path", "output")
        return super().fetch(client, job_id, payload, dest, config, api_key)

    def output_url(self, payload):
        url = dig(payload, self._output_path)
        if isinstance(url, list) and url:
            url = url[0]
        if not isinstance(url, str) or not url:
            raise PermanentError("Replicate prediction has no output URL", code="vendor_bad_response")
        return url

    def metadata(self, payload):
        return {
            "vendor": self.vendor,
            "model": payload.get("model"),
            "version": payload.get("version"),
            "predict_time": (payload.get("metrics") or {}).get("predict_time"),
        }

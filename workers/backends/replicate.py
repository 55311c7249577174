"""Replicate predictions: any Replicate-hosted video model from catalog data alone.

catalog params: `replicate_model` ("owner/name", official models) or `version` (a version id),
`input_fields`, `duration_format` (with `frames_per_second` for "frames"), `extra_input`, `durations`, `sizes`, `audio`, `output_path`
(default "output", a URL string; "output.0" for a list), and `sources` (the model's page).
create: POST /v1/models/{owner}/{name}/predictions {"input": {...}} (or POST /v1/predictions
        {"version", "input"})
poll:   GET /v1/predictions/{id}: starting / processing -> succeeded | failed | canceled
lost create answer: the newest predictions (GET /v1/predictions) matched on model and exact
        input (`find_created`).
policy: failed with error "... flagged as sensitive ... (E005)".
Output files are deleted an hour after the prediction: downloaded right away.
"""

from __future__ import annotations

from .base import PermanentError, VendorPolicyRejection
from .hosted import hosted_capabilities
from .vendor import Poll, PollingBackend, dig, model_input, one_match, sounds_like_policy, unix_time


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

    def create_call(self, request, config) -> tuple[str, dict]:
        body = {"input": model_input(request, config, self.seconds_sent(request, config))}
        params = config.params
        if params.get("replicate_model"):
            path = f"v1/models/{params['replicate_model'].strip('/')}/predictions"
        elif params.get("version"):
            path, body["version"] = "v1/predictions", params["version"]
        else:
            raise PermanentError("catalog params need replicate_model or version", code="invalid_request")
        return path, body

    def create(self, client, request, config):
        path, body = self.create_call(request, config)
        return str(client.json("POST", path, json=body)["id"])

    def find_created(self, client, request, config, since):
        """The account's newest predictions (GET /v1/predictions, "List predictions": newest
        first, 100 a page): one created at or after `since` for our model (or version) whose
        `input` equals ours exactly (prompt, duration, aspect ratio, seed where the model takes
        one, the catalog's extras). Two such cannot be told apart: unknown."""
        _, body = self.create_call(request, config)
        model = str(config.params.get("replicate_model") or "").strip("/")
        version = config.params.get("version")
        listing = client.json("GET", "v1/predictions")
        matches = []
        for prediction in (listing.get("results") if isinstance(listing, dict) else None) or []:
            if not isinstance(prediction, dict) or not prediction.get("id"):
                continue
            same_model = (model and prediction.get("model") == model) or (
                version and prediction.get("version") == version
            )
            if not same_model or unix_time(prediction.get("created_at")) < since:
                continue
            if "input" not in prediction:  # not every listing carries the input: ask for it
                prediction = client.json("GET", f"v1/predictions/{prediction['id']}")
            if prediction.get("input") == body["input"]:
                matches.append(str(prediction["id"]))
        return one_match(self.vendor, matches)

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

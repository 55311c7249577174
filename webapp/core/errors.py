"""One base for every error a person can cause or meet, so each is rendered in one place:
JSON for the API (webapp/core/api.py), a message on a page for the views."""

from __future__ import annotations


class ScreentestError(Exception):
    """`code` is machine-readable and stable; `message` is shown as it is; `status` is the HTTP
    status a view answers with; `field` names the input it is about; `retry_after` (seconds)
    becomes a Retry-After header."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        field: str | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.field, self.retry_after = code, message, field, retry_after
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body

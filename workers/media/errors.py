"""The media errors. Each has a short machine-readable ``code``; str(e) is the message.

`InvalidVideo`: the input is not acceptable (the message is fit to show a user).
`FFmpegUnavailable`: a binary is missing, not executable, or lacks what we need.
`FFmpegFailed`: a processing step failed on a valid input, or timed out.
``detail`` carries diagnostics (ffmpeg's stderr tail) for logs; never meant for end users.
"""

from __future__ import annotations


class MediaError(Exception):
    """Base of the taxonomy. `code` is a short machine-readable reason, str(e) the message."""

    code = "media_error"

    def __init__(self, message: str, *, code: str | None = None, detail: str | None = None):
        super().__init__(message)
        if code:
            self.code = code
        # Diagnostics for logs (stderr tail, ...). Never shown to users.
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)


class InvalidVideo(MediaError):
    """The input is not an acceptable video. The message is fit to show a user."""

    code = "not_a_video"


class FFmpegUnavailable(MediaError):
    """ffmpeg / ffprobe is missing, not executable, or lacks what we need."""

    code = "ffmpeg_missing"


class FFmpegFailed(MediaError):
    """A processing step failed (code ``ffmpeg_failed``) or timed out (``ffmpeg_timeout``)."""

    code = "ffmpeg_failed"

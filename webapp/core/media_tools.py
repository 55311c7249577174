"""The media library's configuration, read from settings in one place."""

from __future__ import annotations

from django.conf import settings

from workers import media


def media_tools() -> media.Tools:
    return media.Tools(
        ffmpeg=settings.FFMPEG_BINARY,
        ffprobe=settings.FFPROBE_BINARY,
        probe_timeout_s=settings.MEDIA_PROBE_TIMEOUT_S,
        transcode_timeout_s=settings.MEDIA_TRANSCODE_TIMEOUT_S,
    )


def media_limits() -> media.MediaLimits:
    return media.MediaLimits(
        max_bytes=settings.MEDIA_MAX_BYTES,
        max_duration_s=settings.MEDIA_MAX_DURATION_S,
        max_width=settings.MEDIA_MAX_SIDE,
        max_height=settings.MEDIA_MAX_SIDE,
    )

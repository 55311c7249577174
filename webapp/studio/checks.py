"""`manage.py check` tells an operator up front when ffmpeg is missing, instead of every job
failing later."""

from django.core import checks

from webapp.core.media_tools import media_tools
from workers import media


@checks.register(checks.Tags.compatibility)
def ffmpeg_installed(app_configs, **kwargs):
    try:
        media.check_tools(media_tools())
    except media.MediaError as exc:
        return [
            checks.Warning(
                str(exc),
                hint="Debian/Ubuntu: apt-get install ffmpeg. Or set FFMPEG_BINARY and FFPROBE_BINARY.",
                id="screentest.W001",
            )
        ]
    return []

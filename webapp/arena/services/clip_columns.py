"""What each side's clip was, for analyses that control for it (docs/arena.md "Data interop"):
the stored clip's facts, its sound (Clip.audio) and its automatic measurements (docs/metrics.md),
as flat columns `clip_a_<name>` (the left clip, model_a) and `clip_b_<name>` of the battle
export; empty / null for a metric a clip could not be measured on. The import reads the same
columns back (Vote.imported_clips), so a released file's analysis can be redone here."""

from workers.media.measure import METRIC_KEYS

CLIP_FACTS = ("duration_s", "width", "height", "fps", "has_audio")
CLIP_SOUND = ("loudness_lufs", "true_peak_dbtp", "silence_share")
CLIP_COLUMNS = (*CLIP_FACTS, *CLIP_SOUND, "measurements_version", *METRIC_KEYS)

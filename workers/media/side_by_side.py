"""The side-by-side export: 2-4 clips scaled to one tile size and frame rate, stacked, labelled,
with the prompt as a caption below."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from workers.files import atomic_output

from .errors import FFmpegUnavailable
from .filtergraph import chain, filter_spec
from .probing import VideoInfo, probe
from .process import run
from .tools import DEFAULT_TOOLS, GLOBAL_ARGS, PathLike, Tools, absolute, file_url, input_args


@dataclass(frozen=True)
class SideBySideLayout:
    """How the tiles of a side-by-side video are sized and labelled."""

    tile_width: int = 640
    tile_height: int = 360
    fps: float = 24.0
    caption_height: int = 96
    font_file: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    label_size: int = 22
    caption_size: int = 20

    def grid(self, count: int) -> tuple[int, int]:
        """(columns, rows): 2 side by side; 3 and 4 in a 2x2 grid."""
        if count == 2:
            return 2, 1
        if count in (3, 4):
            return 2, 2
        raise ValueError("a side-by-side video needs 2 to 4 clips")

    def output_size(self, count: int) -> tuple[int, int]:
        cols, rows = self.grid(count)
        return cols * self.tile_width, rows * self.tile_height + self.caption_height


def _drawtext(textfile: PathLike, layout: SideBySideLayout, **placement: object) -> str:
    # textfile= keeps untrusted text out of the filter graph's syntax entirely, and
    # expansion=none stops drawtext from interpreting "%{...}" sequences in it.
    return filter_spec(
        "drawtext",
        fontfile=layout.font_file,
        textfile=absolute(textfile),
        expansion="none",
        fontcolor="white",
        box=1,
        boxcolor="black@0.6",
        boxborderw=6,
        **placement,
    )


def side_by_side_argv(
    sources: Sequence[PathLike],
    label_files: Sequence[PathLike],
    caption_file: PathLike,
    dest: PathLike,
    *,
    durations: list[float],
    layout: SideBySideLayout = SideBySideLayout(),
    tools: Tools = DEFAULT_TOOLS,
) -> list[str]:
    """The ffmpeg command that stacks 2-4 clips (hstack for 2, xstack for 3-4), each scaled
    and padded to one tile size at one frame rate, held on its last frame until the longest
    ends, labelled with the text of its label file, with the caption file's text below.
    Progress goes to stdout (`-progress pipe:1`)."""
    count = len(sources)
    cols, rows = layout.grid(count)
    if not (len(label_files) == len(durations) == count):
        raise ValueError("one label file and one duration per source")
    total = max(durations)
    w, h = layout.tile_width, layout.tile_height
    chains, tiles = [], ""
    for i, (label, duration) in enumerate(zip(label_files, durations)):
        hold = [filter_spec("tpad", stop_mode="clone", stop_duration=f"{total - duration:.3f}")]
        tile = chain(
            filter_spec("scale", w=w, h=h, force_original_aspect_ratio="decrease"),
            filter_spec("pad", w=w, h=h, x="(ow-iw)/2", y="(oh-ih)/2", color="black"),
            filter_spec("setsar", 1),
            filter_spec("fps", fps=layout.fps),
            *(hold if total - duration > 0.01 else []),
            _drawtext(label, layout, x=12, y=12, fontsize=layout.label_size),
        )
        chains.append(f"[{i}:v:0]{tile}[t{i}]")
        tiles += f"[t{i}]"
    if count == 2:
        stack = filter_spec("hstack", inputs=2)
    else:
        positions = "|".join(f"{(i % cols) * w}_{(i // cols) * h}" for i in range(count))
        stack = filter_spec("xstack", inputs=count, layout=positions, fill="black")
    out_w, out_h = layout.output_size(count)
    caption = _drawtext(caption_file, layout, x=16, y=rows * h + 14, fontsize=layout.caption_size, line_spacing=6)
    chains.append(f"{tiles}{chain(stack, filter_spec('pad', w=out_w, h=out_h, x=0, y=0, color='black'), caption)}[out]")
    return [
        tools.ffmpeg, *GLOBAL_ARGS, "-progress", "pipe:1", "-nostats",
        *(arg for src in sources for arg in input_args(src)),
        "-filter_complex", ";".join(chains), "-map", "[out]", "-an", "-sn", "-dn",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
        "-r", str(layout.fps), "-t", f"{total:.3f}", "-map_metadata", "-1", "-movflags", "+faststart",
        "-f", "mp4", file_url(dest),
    ]  # fmt: skip


def wrap_caption(text: str, *, width: int, lines: int) -> str:
    """The prompt as at most `lines` lines of `width` characters (ellipsis when cut)."""
    flat = " ".join(text.split())
    wrapped = textwrap.wrap(flat, width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(0, width - 1)].rstrip() + "…"
    return "\n".join(wrapped)


def _progress_reader(total_s: float, on_progress: Callable[[float], None]) -> Callable[[bytes], None]:
    """Turns ffmpeg's `-progress` key=value lines into fractions of `total_s`."""

    def on_line(line: bytes) -> None:
        key, _, value = line.decode("ascii", "replace").partition("=")
        if key == "out_time_us" and value.strip().isdigit() and total_s > 0:
            on_progress(min(1.0, int(value) / 1e6 / total_s))

    return on_line


def make_side_by_side(
    sources: Sequence[PathLike],
    labels: list[str],
    caption: str,
    dest: PathLike,
    *,
    layout: SideBySideLayout = SideBySideLayout(),
    tools: Tools = DEFAULT_TOOLS,
    on_progress=lambda fraction: None,
) -> VideoInfo:
    """Render 2-4 clips side by side into `dest` (H.264 MP4) and return its VideoInfo.

    `labels` (one per clip) and `caption` are untrusted text: they reach ffmpeg only through
    files next to `dest` (drawtext `textfile=`, no expansion), never inside the filter graph.
    Written to a temporary name, then os.replace()d; nothing is left behind on failure.
    `on_progress(fraction)` is called as ffmpeg advances."""
    if not 2 <= len(sources) <= 4 or len(labels) != len(sources):
        raise ValueError("a side-by-side video needs 2 to 4 clips, each with a label")
    if not os.path.isfile(layout.font_file):
        raise FFmpegUnavailable(
            f"the font {layout.font_file!r} is missing (Debian: apt-get install "
            "fonts-dejavu-core) or set EXPORT_FONT_FILE"
        )
    infos = [probe(src, tools) for src in sources]
    cols, _ = layout.grid(len(sources))
    label_chars = max(8, int(layout.tile_width / (layout.label_size * 0.62)) - 2)
    caption_chars = max(16, int(cols * layout.tile_width / (layout.caption_size * 0.6)) - 4)
    caption_lines = max(1, (layout.caption_height - 20) // (layout.caption_size + 8))
    with atomic_output(dest) as tmp:
        text_files = [tmp.with_name(f"{tmp.name}.label{i}.txt") for i in range(len(labels))]
        caption_file = tmp.with_name(f"{tmp.name}.caption.txt")
        try:
            for path, label in zip(text_files, labels):
                path.write_text(wrap_caption(label, width=label_chars, lines=1), encoding="utf-8")
            caption_file.write_text(wrap_caption(caption, width=caption_chars, lines=caption_lines), encoding="utf-8")
            argv = side_by_side_argv(
                sources,
                text_files,
                caption_file,
                tmp,
                durations=[i.duration_s for i in infos],
                layout=layout,
                tools=tools,
            )
            run(
                argv,
                timeout=tools.transcode_timeout_s,
                what="ffmpeg (side-by-side export)",
                on_line=_progress_reader(max(i.duration_s for i in infos), on_progress),
            )
            out = probe(tmp, tools)
        finally:
            for path in (*text_files, caption_file):
                path.unlink(missing_ok=True)
    on_progress(1.0)
    return out

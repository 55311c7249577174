"""workers/media/filtergraph.py: option values escaped for ffmpeg's two filter-graph parsers.
The round trip goes through a real ffmpeg, which logs every option value it sets. No Django."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from workers.media.filtergraph import chain, escape_value, filter_spec

NASTY = [
    "plain",
    "a:b",
    "it's",
    "x,y;[z]",
    "back\\slash",
    " leading space",
    "trailing space ",
    "\ttab at both ends\t",
    "/tmp/it's: a [weird], dir; ok/label0.txt",
    "%{localtime} expansion stays text",
    "key=value",
    "'",
    "\\",
]


def test_the_example_of_ffmpeg_filters_notes_on_escaping():
    text = "this is a 'string': may contain one, or more, special characters"
    assert escape_value(text) == r"this is a \\\'string\\\'\\: may contain one\, or more\, special characters"


def test_each_special_character():
    assert escape_value("a:b") == r"a\\:b"  # ':' separates options: '\:', then the '\' again
    assert escape_value("it's") == r"it\\\'s"
    assert escape_value("a,b;c[d]") == r"a\,b\;c\[d\]"  # graph level only
    assert escape_value("a\\b") == r"a\\\\b"
    assert escape_value(" a b ") == r"\\ a b\\\ "  # whitespace only at the ends
    assert escape_value(30) == "30"


def test_filter_spec_and_chain():
    assert filter_spec("setsar", 1) == "setsar=1"
    assert filter_spec("hstack", inputs=2) == "hstack=inputs=2"
    assert filter_spec("null") == "null"
    assert filter_spec("scale", w="max(2,iw)", h="ih") == r"scale=w=max(2\,iw):h=ih"
    assert chain("a=1", "b") == "a=1,b"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_ffmpeg_receives_every_value_verbatim():
    graph = chain(
        "nullsrc=s=16x16:d=0.04",
        *(filter_spec("metadata", mode="add", key=f"k{i}", value=v) for i, v in enumerate(NASTY)),
    )
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "debug", "-filter_complex", graph, "-f", "null", "-"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stderr.decode()
    values = re.findall(r"Setting 'value' to value '(.*)'$", log, re.M)
    assert values and values == NASTY * (len(values) // len(NASTY))  # ffmpeg may parse the graph twice

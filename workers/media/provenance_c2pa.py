"""Reads the C2PA manifest (Content Credentials) a vendor may embed in its original, with
c2pa-python (the Content Authenticity Initiative's reader; a native library shipped in the wheel).

No Django. The input is untrusted, so:

* `read_manifest` never raises: a missing manifest gives ``present=False``; a manifest that is
  there but unreadable (corrupt JUMBF, cut-off box) gives ``present=True`` with ``error`` set;
  any other reader failure gives ``error`` with presence decided by a bounded scan of the
  file's top-level boxes for C2PA's ``uuid`` box;
* the reader runs with network look-ups off (no remote manifest fetch, no OCSP), so reading a
  file never makes a request;
* the summary is small and bounded: strings are cut to `MAX_STRING` characters, lists to
  `MAX_ITEMS` entries, and a summary that was cut says so (``"truncated": true``).

The summary keeps what a person wants to know: which manifest is active, which tool claims to
have made the file (claim generator), its title, the assertion labels, the actions with their
digital source types (e.g. ``c2pa.created`` / ``trainedAlgorithmicMedia``), who signed it and
when (when a time stamp is present), and the validation state with its failure codes. The
signing certificate is not checked against a trust list: "Valid" means the signature and the
hashes check out, not that the signer is someone we trust.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .mp4 import top_level_boxes
from .tools import PathLike

try:
    import c2pa
except Exception as exc:  # a broken install must not break the media stage: read_manifest says so
    c2pa = None
    _C2PA_LOAD_ERROR = f"c2pa-python could not be loaded: {type(exc).__name__}: {exc}"

MAX_STRING = 200
MAX_ITEMS = 20
MAX_ERROR = 300

# The ISO BMFF `uuid` box type that carries a C2PA manifest store (C2PA spec, "Embedding
# manifests into BMFF-based assets").
C2PA_BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_MAX_TOP_LEVEL_BOXES = 10_000

# Reading must never reach out to the network: a manifest could point at a remote store, and
# certificate revocation checks would call the issuer's OCSP responder.
READER_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


@dataclass(frozen=True)
class C2paInfo:
    present: bool
    summary: dict = field(default_factory=dict)
    error: str | None = None


class _Bounded:
    """Cuts strings and lists, and remembers whether it had to."""

    def __init__(self) -> None:
        self.truncated = False

    def text(self, value: Any) -> str | None:
        if value is None:
            return None
        value = value if isinstance(value, str) else str(value)
        if len(value) > MAX_STRING:
            self.truncated = True
            return value[: MAX_STRING - 1] + "…"
        return value

    def items(self, values: list) -> list:
        if len(values) > MAX_ITEMS:
            self.truncated = True
            return values[:MAX_ITEMS]
        return values


def _cut(text: str, limit: int = MAX_ERROR) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def has_c2pa_box(path: PathLike) -> bool:
    """Whether the file's top-level ISO BMFF boxes include C2PA's `uuid` box (even a broken
    one). Reads box headers only, at most `_MAX_TOP_LEVEL_BOXES` of them."""
    try:
        boxes = top_level_boxes(path, limit=_MAX_TOP_LEVEL_BOXES)
    except OSError:
        return False
    return any(box.type == b"uuid" and box.usertype == C2PA_BMFF_UUID for box in boxes)


def _short_source_type(uri: Any) -> Any:
    """IPTC digital source types are URIs; the last path segment is the name people know."""
    if isinstance(uri, str) and "/" in uri:
        return uri.rstrip("/").rsplit("/", 1)[-1]
    return uri


def _generator(manifest: dict, bound: _Bounded) -> str | None:
    infos = manifest.get("claim_generator_info")
    if isinstance(infos, list) and infos:
        parts = []
        for info in infos[:MAX_ITEMS]:
            if isinstance(info, dict) and info.get("name"):
                version = info.get("version")
                parts.append(f"{info['name']} {version}" if version else str(info["name"]))
        if parts:
            return bound.text(", ".join(parts))
    return bound.text(manifest.get("claim_generator"))


def _actions(assertions: list, bound: _Bounded) -> tuple[list, list]:
    actions, source_types = [], []
    for assertion in assertions:
        if not isinstance(assertion, dict) or not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        data = assertion.get("data")
        entries = data.get("actions") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            if entry.get("action") is not None:
                actions.append(bound.text(entry["action"]))
            source = entry.get("digitalSourceType")
            if source is not None:
                short = bound.text(_short_source_type(source))
                if short not in source_types:
                    source_types.append(short)
    return bound.items(actions), bound.items(source_types)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def summarise(store: dict) -> dict:
    """The bounded summary of a manifest store as c2pa's `Reader.json()` reports it."""
    bound = _Bounded()
    manifests = _dict(store.get("manifests"))
    label = store.get("active_manifest")
    active = manifests.get(label) if isinstance(label, str) else None
    active = _dict(active)
    assertions = _list(active.get("assertions"))
    actions, source_types = _actions(assertions, bound)
    signature = _dict(active.get("signature_info"))
    statuses = _list(store.get("validation_status"))
    ingredients = _list(active.get("ingredients"))
    summary = {
        "active_manifest": bound.text(label),
        "manifests": len(manifests),
        "claim_generator": _generator(active, bound),
        "title": bound.text(active.get("title")),
        "format": bound.text(active.get("format")),
        "assertions": bound.items([bound.text(a.get("label")) for a in assertions if isinstance(a, dict)]),
        "actions": actions,
        "digital_source_types": source_types,
        "ingredients": len(ingredients),
        "signature": {
            key: bound.text(signature.get(key))
            for key in ("issuer", "common_name", "alg", "time")
            if signature.get(key) is not None
        },
        "validation": bound.text(store.get("validation_state")),
        "validation_failures": bound.items(
            [bound.text(s.get("code")) for s in statuses if isinstance(s, dict) and s.get("code")]
        ),
    }
    if bound.truncated:
        summary["truncated"] = True
    return summary


def read_manifest(path: PathLike, mime_type: str = "video/mp4") -> C2paInfo:
    """What the C2PA manifest embedded in `path` says, if there is one. Never raises."""
    if c2pa is None:
        return C2paInfo(False, {}, _cut(_C2PA_LOAD_ERROR))
    try:
        context = c2pa.Context.from_dict(READER_SETTINGS)
        with open(path, "rb") as fh, c2pa.Reader(mime_type, fh, context=context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return C2paInfo(False)
    except Exception as exc:
        message = _cut(f"the C2PA manifest could not be read: {exc}")
        return C2paInfo(has_c2pa_box(path), {"error": message}, message)
    if not isinstance(store, dict):
        message = "the C2PA reader returned something other than a manifest store"
        return C2paInfo(True, {"error": message}, message)
    return C2paInfo(True, summarise(store))

"""The prompt policy: allow, hold for review, or reject, with the reasons.

`check(text, negative_prompt)` runs every classifier named in settings.MODERATION_CLASSIFIERS
(dotted paths, imported lazily) and keeps the strictest outcome. The built-in
`RulesClassifier` works offline from data/policy_rules.json (term lists, patterns, public
figures, spam limits); an operator adds a model-based classifier by writing a class with a
`classify(text, negative_prompt) -> list[Finding]` method and adding its path to the setting.
No Django models here: the submission service records the outcome in the audit log.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

ALLOW, HOLD, REJECT = "allow", "hold", "reject"
SEVERITY = {ALLOW: 0, HOLD: 1, REJECT: 2}
RULES_FILE = Path(__file__).resolve().parent / "data" / "policy_rules.json"


@dataclass(frozen=True)
class Finding:
    """One rule that matched. `message` is fit to show the submitter."""

    category: str
    rule: str
    outcome: str
    message: str
    match: str = ""

    def as_dict(self) -> dict:
        return {"category": self.category, "rule": self.rule, "outcome": self.outcome, "match": self.match}


@dataclass(frozen=True)
class Verdict:
    outcome: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def reasons(self) -> list[str]:
        """The submitter-facing messages of the findings that decided the outcome, once each."""
        deciding = [f for f in self.findings if f.outcome == self.outcome]
        return list(dict.fromkeys(f.message for f in deciding))

    @property
    def categories(self) -> list[str]:
        return list(dict.fromkeys(f.category for f in self.findings if f.outcome == self.outcome))


@runtime_checkable
class Classifier(Protocol):
    name: str

    def classify(self, text: str, negative_prompt: str = "") -> list[Finding]: ...


# --- normalisation ------------------------------------------------------------------------------

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_SEPARATED = re.compile(r"\b(?:[a-z][.\-_*]){2,}[a-z]\b")  # n.u.d.e, s-e-x


def normalise(text: str) -> str:
    """Casefolded, accents removed, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def variants(text: str) -> list[str]:
    """The text as written, plus with letter/number swaps and dotted spellings undone."""
    base = normalise(text)
    unleet = _SEPARATED.sub(lambda m: re.sub(r"[.\-_*]", "", m.group(0)), base.translate(_LEET))
    return [base] if unleet == base else [base, unleet]


def _term_pattern(terms: list[str]) -> re.Pattern | None:
    if not terms:
        return None
    alternatives = sorted((re.escape(normalise(t)).replace(r"\ ", r"\s+") for t in terms), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


# --- the built-in rules -------------------------------------------------------------------------

URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|io|ru|xyz|top|info|biz|ly)(?:/\S*)?\b")
CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s().-]{8,}\d|\b(?:telegram|whatsapp|dm me)\b")


@dataclass(frozen=True)
class _Rule:
    category: str
    rule: str
    outcome: str
    message: str
    patterns: tuple[re.Pattern, ...]


class RulesClassifier:
    """Term lists, patterns and public-figure names from a JSON file; offline and fast."""

    name = "rules"

    def __init__(self, path: Path | str | None = None):
        data = json.loads(Path(path or RULES_FILE).read_text())
        self.rules: list[_Rule] = []
        self.figures: dict | None = None
        for category, spec in data["categories"].items():
            message = spec["message"]
            for rule in spec.get("rules", []):
                if rule["outcome"] not in (HOLD, REJECT):
                    raise ValueError(f"{category}.{rule['id']}: outcome must be hold or reject")
                compiled = [re.compile(p) for p in rule.get("patterns", [])]
                terms = _term_pattern(rule.get("terms", []))
                if terms:
                    compiled.append(terms)
                self.rules.append(_Rule(category, rule["id"], rule["outcome"], message, tuple(compiled)))
            if "public_figures" in spec:
                self.figures = self._load_figures(category, message, spec["public_figures"])
        self.spam = data["spam"]

    @staticmethod
    def _load_figures(category: str, message: str, spec: dict) -> dict:
        not_person = "|".join(re.escape(w) for w in spec.get("not_a_person_when_followed_by", []))
        names = sorted((normalise(n) for n in spec["names"]), key=len, reverse=True)
        name_re = r"(?<![\w-])(?:" + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names) + r")(?:'s)?(?![\w-])"
        if not_person:
            name_re += r"(?!\s+(?:" + not_person + r")\b)"
        return {
            "category": category,
            "message": message,
            "names": re.compile(name_re),
            "context": _term_pattern(spec.get("deceptive_context", [])),
            "framed": [re.compile(p) for p in spec.get("patterns", [])],
            "mention": spec.get("mention_outcome", HOLD),
            "deceptive": spec.get("deceptive_context_outcome", REJECT),
        }

    def classify(self, text: str, negative_prompt: str = "") -> list[Finding]:
        findings = self._spam(text, "prompt") + (
            self._spam(negative_prompt, "negative_prompt") if negative_prompt else []
        )
        forms = variants(text)
        for rule in self.rules:
            match = _first_match(rule.patterns, forms)
            if match is not None:
                findings.append(Finding(rule.category, rule.rule, rule.outcome, rule.message, match))
        if self.figures:
            findings += self._public_figures(forms)
        return findings

    def _public_figures(self, forms: list[str]) -> list[Finding]:
        fig = self.figures
        assert fig is not None  # classify() calls this only when figures are configured
        name = _first_match([fig["names"]], forms[:1])
        if name is None:
            # "a news broadcast of <anyone>" is checked only when a listed name appears, so the
            # framing of an unknown name ("of a fox") is not a finding.
            return []
        framed = _first_match(fig["framed"], forms[:1])
        context = _first_match([fig["context"]] if fig["context"] else [], forms)
        if framed is not None or context is not None:
            return [
                Finding(
                    fig["category"],
                    "public_figure_in_deceptive_context",
                    fig["deceptive"],
                    fig["message"],
                    f"{name} + {context or framed}",
                )
            ]
        return [
            Finding(
                fig["category"],
                "public_figure_named",
                fig["mention"],
                "Prompts naming a real person are checked by a moderator first.",
                name,
            )
        ]

    def _spam(self, text: str, field_name: str) -> list[Finding]:
        spec, found = self.spam, []
        message = spec["message"]
        text = normalise(text)
        if not text:
            return []

        def add(rule: str, outcome: str, match: str, why: str = ""):
            found.append(Finding("spam", rule, outcome, why or message, f"{field_name}: {match}"[:120]))

        letters = sum(ch.isalpha() for ch in text)
        if field_name == "prompt" and letters < spec["min_letters"]:
            add("too_short", REJECT, text, "Describe the video you want in a few words.")
        elif letters / max(len(text.replace(" ", "")), 1) < spec["min_letter_share"]:
            add("mostly_symbols", REJECT, text[:40])
        repeated = re.search(r"(.)\1{" + str(spec["max_repeated_characters"]) + ",}", text)
        if repeated:
            add("repeated_characters", REJECT, repeated.group(0)[:20])
        words = re.search(r"\b(\w+)\b(?:\W+\1\b){" + str(spec["max_repeated_words"]) + ",}", text)
        if words:
            add("repeated_words", REJECT, words.group(0)[:40])
        links = URL.findall(text)
        if len(links) >= spec["links_rejected_from"]:
            add("links", REJECT, " ".join(links)[:80], "Prompts cannot carry links.")
        elif len(links) >= spec["links_held_from"]:
            add("links", HOLD, links[0][:80], "Prompts with a link are checked by a moderator first.")
        contact = CONTACT.search(text)
        if contact:
            add(
                "contact_details",
                spec["contact_outcome"],
                contact.group(0)[:40],
                "Prompts with contact details are checked by a moderator first.",
            )
        return found


def _first_match(patterns, forms: list[str]) -> str | None:
    for form in forms:
        for pattern in patterns:
            match = pattern.search(form)
            if match:
                return match.group(0)
    return None


# --- the registry and the verdict ---------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> tuple[Classifier, ...]:
    loaded = []
    for path in paths:
        classifier = import_string(path)()
        if not isinstance(classifier, Classifier):
            raise TypeError(f"{path} has no classify(text, negative_prompt) method")
        loaded.append(classifier)
    return tuple(loaded)


def classifiers() -> tuple[Classifier, ...]:
    return _load(tuple(settings.MODERATION_CLASSIFIERS))


def check(text: str, negative_prompt: str = "") -> Verdict:
    findings: list[Finding] = []
    for classifier in classifiers():
        findings.extend(classifier.classify(text, negative_prompt))
    outcome = max((f.outcome for f in findings), key=SEVERITY.__getitem__, default=ALLOW)
    return Verdict(outcome, tuple(findings))

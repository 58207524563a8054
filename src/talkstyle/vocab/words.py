"""The words style prompts are made of, each with its canonical meaning.

Subject (S), emotion (E), intensity (I), head motion and delivery, as in the seed's
"meta-attribute distribution". The data engine's sampler (data/prompts.py) writes prompts from
these tables and the parser (text/parse.py) reads user prompts back through the same tables, so
both stay in step.
"""
from __future__ import annotations

import dataclasses

from ..errors import TalkstyleError


@dataclasses.dataclass(frozen=True)
class Subject:
    word: str          # "male professor"
    gender: str        # female | male | unknown
    age_group: str     # child | young | adult | senior
    sample: bool = True  # False: understood in user prompts, never written by the sampler (pronouns)

    @property
    def group(self) -> str:
        """The sampler's stratum: gender x (young = child|young, adult = adult|senior)."""
        return f"{self.gender}-{'young' if self.age_group in ('child', 'young') else 'adult'}"


def _subjects(gender: str, age_group: str, words: str, sample: bool = True) -> list[Subject]:
    return [Subject(w.strip(), gender, age_group, sample) for w in words.split(",")]


SUBJECTS: tuple[Subject, ...] = tuple(
    _subjects("male", "child", "little boy, boy, schoolboy, young boy")
    + _subjects("male", "young", "teen boy, young man, male student, male gamer, college guy, teenage boy")
    + _subjects("male", "adult", "man, gentleman, male professor, male teacher, male doctor, male presenter, "
                "male athlete, male singer, businessman, father, male nurse, male engineer, guy, actor")
    + _subjects("male", "senior", "old man, elderly man, grandfather, retired gentleman, grandpa")
    + _subjects("female", "child", "little girl, girl, schoolgirl, young girl")
    + _subjects("female", "young", "teen girl, young lady, young woman, female student, female gamer, teenage girl")
    + _subjects("female", "young", "young women", sample=False)
    + _subjects("female", "adult", "woman, lady, female professor, female teacher, female doctor, "
                "female presenter, female athlete, female singer, businesswoman, mother, female nurse, "
                "female engineer, actress, female")
    + _subjects("female", "senior", "old woman, elderly woman, grandmother, old lady, grandma")
    + _subjects("unknown", "adult", "person, speaker, someone, adult", sample=False)
    + _subjects("unknown", "child", "child, kid", sample=False)
    + _subjects("unknown", "young", "teenager, student", sample=False)
    + _subjects("male", "adult", "he, male, his, him", sample=False)
    + _subjects("female", "adult", "she, her", sample=False)
)

# Emotion words (adjectives and the nouns the seed uses: "a clear shock expression") -> family.
EMOTIONS: dict[str, str] = {}
for _family, _words in {
    "neutral": "neutral, calm, relaxed, composed, serene, peaceful, indifferent, blank, focused, "
               "matter-of-fact, bored, tired, natural, steady",
    "happy": "happy, delighted, cheerful, joyful, smile, smiling, laugh, laughing, zest, excited, elated, "
             "content, amused, exuberant, glad, playful, beaming, grin, hopeful, proud, loving",
    "sad": "sad, unhappy, sorrowful, cry, crying, tearful, disappointed, gloomy, melancholy, heartbroken, "
           "depressed, grieving, frown, frowning, downcast, ashamed, embarrassed, guilty",
    "angry": "angry, furious, annoyed, irritated, resentful, frustrated, enraged, hostile, mad, jealous, "
             "outraged, fuming, stern, grumpy, cranky, livid",
    "fearful": "fearful, afraid, scared, anxious, nervous, terrified, worried, stressed, panicked, "
               "frightened, tense, uneasy, horrified, petrified",
    "surprised": "surprised, surprise, shocked, shock, astonished, amazed, startled, stunned, "
                 "astounded, wide-eyed",
    "disgusted": "disgusted, disgust, repulsed, revolted, grossed-out, nauseated, sickened, appalled, "
                 "repelled",
    "contempt": "contempt, contemptuous, scornful, disdainful, sneering, smug, sarcastic, dismissive, "
                "mocking, condescending, snide",
}.items():
    for _w in _words.split(","):
        EMOTIONS[_w.strip()] = _family

# Understood in user prompts but not written by the sampler (they read as head or delivery words there).
PARSE_ONLY_EMOTIONS = frozenset({"natural", "steady"})

# Intensity words -> level in [0, 1]. The sampler stratifies over three bands of these levels.
INTENSITIES: dict[str, float] = {
    "faint": 0.15, "slight": 0.2, "subtle": 0.2, "low": 0.25, "mild": 0.3, "soft": 0.3, "gentle": 0.3,
    "moderate": 0.5, "medium": 0.5, "noticeable": 0.55, "clear": 0.6, "visible": 0.6,
    "well-defined": 0.65, "plain": 0.6, "distinct": 0.65,
    "high": 0.75, "strong": 0.8, "vivid": 0.85, "high-energy": 0.85, "intense": 0.9,
    "extreme": 1.0, "overwhelming": 1.0,
}
INTENSITY_BANDS: dict[str, tuple[float, float]] = {"low": (0.0, 0.4), "medium": (0.4, 0.7), "high": (0.7, 1.01)}


def intensity_band(level: float) -> str:
    for band, (lo, hi) in INTENSITY_BANDS.items():
        if lo <= level < hi:
            return band
    raise TalkstyleError(f"intensity level must lie in [0, 1], got {level}")


# Head-motion clauses (the parser knows them all; the sampler writes the first few of each list).
HEAD_PHRASES: dict[str, tuple[str, ...]] = {
    "still": ("keeping the head still", "holding the head steady", "keeping his gaze forward and steady",
              "keeping her gaze forward and steady", "gaze forward and steady", "head held still",
              "without moving the head", "keeping the head steady", "head still"),
    "nod": ("nodding along", "with small nods", "while nodding", "nodding", "nods", "nod"),
    "shake": ("shaking the head", "with a shake of the head", "while shaking the head", "shaking his head", "shaking her head",
              "shakes the head", "shakes his head", "shakes her head", "head shake", "shaking"),
    "natural": ("moving the head naturally", "with natural head movement", "natural head motion"),
}
SAMPLED_HEAD_PHRASES = 2  # the sampler writes one of the first two phrases of each list

# Delivery verbs: third person forms (written after the subject) and gerunds (after "while").
DELIVERY_VERBS: dict[str, tuple[str, ...]] = {
    "speaks": ("speaks", "talks", "explains", "continues speaking", "talks on", "shares a thought"),
    "whispers": ("whispers", "speaks in a whisper", "murmurs", "speaks quietly"),
    "shouts": ("shouts", "yells", "calls out loudly", "speaks loudly"),
    "sings": ("sings", "sings softly", "sings a phrase"),
}
DELIVERY_GERUNDS: dict[str, tuple[str, ...]] = {
    "speaks": ("speaking", "talking", "explaining"),
    "whispers": ("whispering",),
    "shouts": ("shouting", "yelling"),
    "sings": ("singing",),
}
# The sampler does not stratify delivery; it draws it with these weights (speech dominates, as in use).
DELIVERY_WEIGHTS: dict[str, float] = {"speaks": 0.7, "whispers": 0.1, "shouts": 0.1, "sings": 0.1}

# Sentence templates. {Subj} "A young lady", {verb} a third-person delivery, {ving} a gerund,
# {int} {emo} intensity and emotion words, {head} the head clause (", nodding along" or "").
TEMPLATES: tuple[str, ...] = (
    "{Subj} {verb} with a {int} {emo} expression{head}.",
    "{Subj} {verb} with a {int} {emo} look{head}.",
    "{Subj} {verb} with a {int} {emo} demeanor{head}.",
    "{Subj} {verb} under a {int} {emo} expression{head}.",
    "{Subj} {verb}, a {int} {emo} expression on the face{head}.",
    "{Subj} {verb}, wearing a {int} {emo} look{head}.",
    "{Subj} {verb} while showing a {int} {emo} face{head}.",
    "{Subj} {verb}, the {int} {emo} expression plain to see{head}.",
    "{Subj} {verb} in short bursts, a {int} {emo} expression on the face{head}.",
    "{Subj} {verb} with measured tempo and a {int} {emo} expression{head}.",
    "{Subj} {verb} slowly with a {int} {emo} expression{head}.",
    "{Subj} {verb} quickly, a {int} {emo} look in the eyes{head}.",
    "{Subj} is {ving} with a {int} {emo} expression{head}.",
    "{Subj} is {ving}, holding a {int} {emo} expression{head}.",
    "{Subj} is {ving} while carrying a {int} {emo} mood{head}.",
    "{Subj} keeps {ving} with a {int} {emo} expression{head}.",
    "{Subj} continues {ving}, a {int} {emo} look on the face{head}.",
    "{Subj} is holding a {int} {emo} expression while {ving}{head}.",
    "{Subj} is carrying a {int} {emo} expression while {ving}{head}.",
    "{Subj} shows a {int} {emo} expression while {ving}{head}.",
    "{Subj} exhibits a {int} {emo} expression while {ving}{head}.",
    "{Subj} has a {int} {emo} expression on the face while {ving}{head}.",
    "{Subj} paired with a {int} {emo} look, {ving}{head}.",
    "With a {int} {emo} expression, {subj} {verb}{head}.",
    "Wearing a {int} {emo} look, {subj} {verb}{head}.",
    "Under a {int} {emo} demeanor, {subj} {verb}{head}.",
    "Close-up of {subj} {ving} with a {int} {emo} expression{head}.",
    "Portrait shot: {subj} {verb} with a {int} {emo} expression{head}.",
    "A front view of {subj} {ving}, a {int} {emo} look on the face{head}.",
    "{Subj} {verb} to the camera with a {int} {emo} expression{head}.",
    "{Subj} {verb} to someone off screen, showing a {int} {emo} face{head}.",
    "{Subj} looks at the camera and {verb} with a {int} {emo} expression{head}.",
    "{Subj} {verb}, then pauses, a {int} {emo} look on the face{head}.",
    "In a quiet room, {subj} {verb} with a {int} {emo} expression{head}.",
)

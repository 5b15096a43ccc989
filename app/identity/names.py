"""Names for the phone + name rule: normalized here (one place), compared word by word.

``name_similarity(a, b)`` is a score from 0 to 100, compared unrounded with
``NAME_MATCH_THRESHOLD`` (80). It is built from the names' words (tokens of the normalized
name), paired one to one in whatever order pairs them best (so "Doe Jane" is "Jane Doe"):

* a pair of words scores 100 when equal, 90 when one is a nickname of the other (the data
  file ``nicknames.json``: nickname -> canonical given name), 80 when one is the other's
  initial ("j" / "jamie"), and the letters' similarity (rapidfuzz ``ratio``), at least 80,
  when they are at most one edit apart per three letters of the shorter word and never more
  than two (optimal string alignment: a transposition such as ``kia``/``kai`` is one edit;
  words of one or two letters must be equal). Any other pair is two different names: 0;
* the name's score is the mean over the pairs; a word of the longer name left without a
  partner counts as half a pair scoring 0, unless it is a particle ("de", "van", ...).

So at the default threshold two names match when every word of the shorter one has a
counterpart (same, nickname, initial or typo), and a word more on one side (a middle name)
costs half a pair: "Jane Smith" / "John Smith" (a household: two given names) score 50,
"Kia Smith" / "Kai Smith" 90, "J. Gibson" / "Jamie Gibson" 90, "Bob Stone" / "Robert Stone"
95, "Mary Smith" / "Mary Kate Smith" 80, "Jane" / "Jane Smith" 66.7 (a one-word name matches
only a one-word name). A missing name (``None``, or nothing left after normalization) scores 0
against anything.

A person's names (a profile's current name and its history, ``HISTORY_LIMIT`` kept) are
compared pair by pair and the best pair counts; a name another of them spells out ("J. Gibson"
beside "Jamie Gibson") is left out, so that an initial once written does not make the person
match every given name with that letter (``telling``).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import permutations

from rapidfuzz import fuzz, utils
from rapidfuzz.distance import OSA

EQUAL, NICKNAME, INITIAL, TYPO = 100.0, 90.0, 80.0, 80.0
UNPAIRED = 0.5  # the weight of a word left without a partner (it scores 0)
MAX_WORDS = 6  # words compared per name: more are ignored (the pairing tries every order)
# Names a profile remembers (``profiles.names``): the latest distinct normalized ones.
HISTORY_LIMIT = 10
PARTICLES = frozenset(
    ("da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du", "la", "le",
     "ten", "ter", "van", "von", "y", "zu")
)  # fmt: skip
# Letters Unicode decomposition leaves alone, as people type them on a keyboard without them.
_FOLD = str.maketrans(
    {"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th",
     "ı": "i", "ħ": "h"}
)  # fmt: skip


# Cached: the sweep and merges normalize the same names over and over (a fifth of a sweep's
# Python time went here before).
@lru_cache(maxsize=65536)
def normalize_name(name: str | None) -> str | None:
    """Accents stripped (Unicode decomposition, then ``ł``→``l``, ``ß``→``ss`` and the like),
    lower case, punctuation to spaces (rapidfuzz's ``default_process``), words separated by one
    space. ``None`` when nothing is left. Normalizing a normalized name changes nothing."""
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    processed = " ".join(utils.default_process(bare).translate(_FOLD).split())
    return processed or None


def _load_nicknames() -> dict[str, str]:
    """nickname -> canonical given name, both normalized; chains (``cathy`` -> ``catherine``
    -> ``katherine``) followed to their end."""
    text = resources.files("app.identity").joinpath("nicknames.json").read_text("utf-8")
    raw = {normalize_name(k): normalize_name(v) for k, v in json.loads(text).items()}
    table = {k: v for k, v in raw.items() if k and v and k != v}
    for key in list(table):
        seen = {key}
        while table[key] in table and table[table[key]] not in seen:
            seen.add(table[key])
            table[key] = table[table[key]]
    return table


NICKNAMES = _load_nicknames()


def canonical(word: str) -> str:
    """The given name a nickname stands for (``bob`` -> ``robert``); other words unchanged."""
    return NICKNAMES.get(word, word)


@lru_cache(maxsize=65536)
def word_score(x: str, y: str) -> float:
    """How much two words of a name are one: 100 equal, 90 nickname, 80 initial, at least 80
    a typo within the edit budget, 0 two different names (see the module docstring)."""
    if x == y:
        return EQUAL
    if canonical(x) == canonical(y):
        return NICKNAME
    short, long = sorted((x, y), key=len)
    if len(short) == 1:
        return INITIAL if long.startswith(short) else 0.0
    budget = min(2, len(short) // 3)
    if budget and OSA.distance(x, y, score_cutoff=budget) <= budget:
        return max(TYPO, fuzz.ratio(x, y))
    return 0.0


@dataclass(frozen=True)
class Comparison:
    """Two normalized names compared: the score, the words paired, and the words left over."""

    score: float
    pairs: tuple[tuple[str, str], ...] = ()
    unpaired: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[tuple[str, str], ...]:
        """Paired words that are two different names (score 0)."""
        return tuple((x, y) for x, y in self.pairs if word_score(x, y) == 0.0)

    @property
    def agreements(self) -> tuple[tuple[str, str], ...]:
        return tuple((x, y) for x, y in self.pairs if word_score(x, y) > 0.0)


MISSING = Comparison(0.0)


@lru_cache(maxsize=65536)
def _compare_words(left: tuple[str, ...], right: tuple[str, ...]) -> Comparison:
    swapped = len(left) > len(right)
    short, long = (right, left) if swapped else (left, right)
    best: tuple[float, tuple[int, ...]] | None = None
    for order in permutations(range(len(long)), len(short)):
        total = sum(word_score(w, long[j]) for w, j in zip(short, order, strict=True))
        if best is None or total > best[0]:
            best = (total, order)
    assert best is not None
    total, order = best
    unpaired = tuple(long[j] for j in range(len(long)) if j not in order)
    weight = len(short) + UNPAIRED * sum(1 for w in unpaired if w not in PARTICLES)
    paired = zip(short, order, strict=True)
    pairs = tuple((long[j], w) if swapped else (w, long[j]) for w, j in paired)
    return Comparison(100.0 * total / EQUAL / weight, pairs, unpaired)


@lru_cache(maxsize=65536)
def words(name: str | None) -> tuple[str, ...]:
    """The words of a name, normalized (at most ``MAX_WORDS``); empty when it is missing."""
    norm = normalize_name(name)
    return tuple(norm.split()[:MAX_WORDS]) if norm else ()


def compare_names(a: str | None, b: str | None) -> Comparison:
    """The two names compared word by word (raw or normalized names: both are normalized)."""
    left, right = words(a), words(b)
    if not left or not right:
        return MISSING
    return _compare_words(left, right)


def name_similarity(a: str | None, b: str | None) -> float:
    """The names' score, 0..100, unrounded; 0 when either is missing (module docstring)."""
    return compare_names(a, b).score


def _less_specific(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """``a`` says nothing ``b`` does not: the same words, some of them only initials."""
    if a == b or len(a) != len(b):
        return False
    return any(
        all(x == y or (len(x) == 1 < len(y) and y.startswith(x)) for x, y in paired)
        and any(x != y for x, y in paired)
        for paired in (tuple(zip(a, order, strict=True)) for order in permutations(b))
    )


def telling(names: Iterable[str | None]) -> list[str]:
    """The names worth comparing of one person's names: distinct, and without those another
    of them spells out ("J. Gibson" beside "Jamie Gibson"), so that an initial once written
    does not make the person match every given name with that letter."""
    return list(_telling(tuple(names)))


@lru_cache(maxsize=16384)
def _telling(names: tuple[str | None, ...]) -> tuple[str, ...]:
    spelled: dict[tuple[str, ...], str] = {}  # one spelling per set of words ("Doe Jane")
    for norm in (normalize_name(n) for n in names):
        if norm:
            spelled.setdefault(tuple(sorted(norm.split()[:MAX_WORDS])), norm)
    distinct = list(spelled.values())
    split = [tuple(n.split()[:MAX_WORDS]) for n in distinct]
    return tuple(
        name
        for name, mine in zip(distinct, split, strict=True)
        if not any(_less_specific(mine, other) for other in split)
    )


def best_comparison(
    left: Sequence[str | None], right: Sequence[str | None], *, every: bool = False
) -> tuple[Comparison, str | None, str | None]:
    """The best-scoring pair of one person's names with another's (each side: ``telling``,
    or with ``every`` each distinct name), and the two names it compares; ``MISSING`` when a
    side has no name."""
    pick = _every if every else telling
    best: tuple[Comparison, str | None, str | None] = (MISSING, None, None)
    for a in pick(left):
        for b in pick(right):
            found = compare_names(a, b)
            if found.score > best[0].score or best[1] is None:
                best = (found, a, b)
    return best


def best_similarity(
    left: Sequence[str | None], right: Sequence[str | None], *, every: bool = False
) -> float:
    """The score of the best pair of one person's names with another's (``best_comparison``):
    what the phone + name rule compares with the threshold."""
    return best_comparison(left, right, every=every)[0].score


def _every(names: Sequence[str | None]) -> tuple[str, ...]:
    return _distinct(tuple(names))


@lru_cache(maxsize=16384)
def _distinct(names: tuple[str | None, ...]) -> tuple[str, ...]:
    """Each distinct normalized name once, in order (the sweep's side of a comparison)."""
    return tuple(dict.fromkeys(n for n in map(normalize_name, names) if n))


def union(*histories: Iterable[str | None]) -> tuple[str, ...]:
    """Name histories joined, the first one's names first: normalized, distinct, at most
    ``HISTORY_LIMIT`` (the last go). A name written now goes in front: ``union([name], old)``;
    a merged person's history is the survivor's, then the others' in rank order."""
    joined = (normalize_name(n) for history in histories for n in history)
    return tuple(dict.fromkeys(n for n in joined if n))[:HISTORY_LIMIT]


def given_name(name: str | None) -> str | None:
    """The word in the given-name position of a name as written: the first, or the first
    after a comma ("Smith, Jane"). A guess, used only to word explanations."""
    if not name:
        return None
    _, comma, after = name.partition(",")
    found = words(after if comma else name)
    return found[0] if found else None

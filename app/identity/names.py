"""Name normalization and similarity for the phone + name rule."""

from __future__ import annotations

import unicodedata

from rapidfuzz import fuzz, utils


def normalize_name(name: str | None) -> str | None:
    """Accents stripped (Unicode decomposition), then lower case, punctuation to spaces, trimmed
    (rapidfuzz's ``default_process``). ``None`` when nothing is left."""
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    processed = utils.default_process(bare)
    return processed or None


def name_similarity(a: str | None, b: str | None) -> float:
    """``token_sort_ratio`` of the normalized names, unrounded, 0..100; 0 if either is missing.

    Token order does not matter ("Doe Jane" is "Jane Doe").
    """
    left, right = normalize_name(a), normalize_name(b)
    if left is None or right is None:
        return 0.0
    return float(fuzz.token_sort_ratio(left, right, processor=None))

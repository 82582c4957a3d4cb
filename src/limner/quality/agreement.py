"""Agreement between annotators on categories: tags, classifications, any nominal answer.

Input: **ratings**, an iterable of items, each a mapping ``annotator -> category``::

    ratings = [
        {"ann": "cat", "bob": "cat", "eve": "dog"},   # item 0
        {"ann": "dog", "bob": None},                  # item 1: eve did not rate it, nor bob
    ]

Annotators and categories are any hashable values (names, ids, labels, True/False). A missing key,
``None`` or a float NaN means "not rated". :func:`tag_ratings` builds ratings from the tags of
annotators' :class:`~limner.core.dataset.Dataset` objects.

All three coefficients are nominal (every disagreement weighs the same) and are
``1 - observed disagreement / expected disagreement``: 1 for perfect agreement, 0 for agreement at
chance level, negative below it.

**Undefined values.** When the expected disagreement is 0 — every rating is the same category, so
chance alone explains perfect agreement — the coefficient is 0/0 and these functions return
``float("nan")``, as scikit-learn's ``cohen_kappa_score`` and statsmodels' ``fleiss_kappa`` do (the
``krippendorff`` package raises instead). They also return NaN when there is nothing to compare (no
item rated by both annotators, no item rated twice). Show NaN as "n/a", never as 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from itertools import combinations

import numpy as np

from limner.core.dataset import Dataset

__all__ = [
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "pairwise_cohen_kappa",
    "tag_ratings",
]

Ratings = Iterable[Mapping[Hashable, Hashable | None]]
"""One mapping ``annotator -> category`` per item; None, NaN or a missing key: not rated."""

_NAN = float("nan")


def _rated(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _items(ratings: Ratings) -> list[dict]:
    out = []
    for i, item in enumerate(ratings):
        if not isinstance(item, Mapping):
            raise ValueError(f"ratings[{i}] must be a mapping annotator -> category, got {type(item).__name__}")
        out.append({a: c for a, c in item.items() if _rated(c)})
    return out


def _annotators(items: list[dict]) -> list:
    seen: dict = {}
    for item in items:
        for a in item:
            seen.setdefault(a, None)
    return list(seen)


def _index(values: Iterable) -> dict:
    out: dict = {}
    for v in values:
        if v not in out:
            out[v] = len(out)
    return out


def _ratio(observed: float, expected: float) -> float:
    """``1 - observed / expected`` disagreement; NaN when the expected disagreement is 0."""
    if expected <= 1e-15:
        return _NAN
    return float(1.0 - observed / expected)


def cohen_kappa(ratings: Ratings, first: Hashable | None = None, second: Hashable | None = None) -> float:
    """Cohen's kappa between two annotators, over the items both rated.

    ``first`` and ``second`` name the two annotators; leave both out when the ratings hold exactly
    two. ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of items on which they agree
    and ``p_e = sum_c p_first(c) * p_second(c)`` the agreement their own category frequencies give
    by chance. NaN when ``p_e`` is 1 (both used one and the same category throughout) or no item was
    rated by both. Equals scikit-learn's ``cohen_kappa_score(y1, y2)`` (unweighted).
    """
    items = _items(ratings)
    if first is None and second is None:
        names = _annotators(items)
        if len(names) != 2:
            raise ValueError(
                f"cohen_kappa compares two annotators; the ratings hold {len(names)} "
                f"({', '.join(map(repr, names[:5]))}{', ...' if len(names) > 5 else ''}): name two as first= and second="
            )
        first, second = names
    elif first is None or second is None:
        raise ValueError("cohen_kappa: give both first= and second=, or neither")
    if first == second:
        raise ValueError(f"cohen_kappa needs two different annotators, got {first!r} twice")
    pairs = [(it[first], it[second]) for it in items if first in it and second in it]
    if not pairs:
        return _NAN
    idx = _index(c for p in pairs for c in p)
    k = len(idx)
    codes = np.array([[idx[x], idx[y]] for x, y in pairs], dtype=np.int64)
    conf = np.bincount(codes[:, 0] * k + codes[:, 1], minlength=k * k).reshape(k, k).astype(np.float64)
    n = conf.sum()
    expected = np.outer(conf.sum(axis=1), conf.sum(axis=0)) / n
    # disagreement form, as scikit-learn computes it: 1 - sum(off-diagonal O) / sum(off-diagonal E)
    off = ~np.eye(k, dtype=bool)
    return _ratio(float(conf[off].sum()), float(expected[off].sum()))


def pairwise_cohen_kappa(ratings: Ratings) -> dict[tuple, float]:
    """Cohen's kappa for every pair of annotators (in order of first appearance), each over the items
    both rated: ``{(a, b): kappa}``. Pairs that share no item get NaN."""
    items = _items(ratings)
    names = _annotators(items)
    return {(a, b): cohen_kappa(items, a, b) for a, b in combinations(names, 2)}


def fleiss_kappa(ratings: Ratings) -> float:
    """Fleiss' kappa for any number of annotators, each item rated by the same number ``n >= 2`` of
    them (who they are may change from item to item).

    ``kappa = (P - P_e) / (1 - P_e)``: ``P`` is the mean over items of the share of agreeing pairs
    of ratings, ``P_e = sum_c p_c^2`` with ``p_c`` the share of all ratings in category ``c``. NaN
    when ``P_e`` is 1 (a single category throughout) or there are no items. Equals statsmodels'
    ``fleiss_kappa(table, method="fleiss")`` on the items x categories count table.

    Raises ValueError when items have different numbers of ratings: use
    :func:`krippendorff_alpha`, which allows missing ratings.
    """
    items = _items(ratings)
    if not items:
        return _NAN
    n = len(items[0])
    for i, it in enumerate(items):
        if len(it) < 2:
            raise ValueError(
                f"fleiss_kappa needs at least 2 ratings on every item, item {i} has {len(it)}; "
                "krippendorff_alpha allows missing ratings"
            )
        if len(it) != n:
            raise ValueError(
                f"fleiss_kappa needs the same number of ratings on every item: item 0 has {n}, "
                f"item {i} has {len(it)}; krippendorff_alpha allows missing ratings"
            )
    idx = _index(c for it in items for c in it.values())
    table = _count_table(items, idx)
    total = table.sum()
    p = table.sum(axis=0) / total
    per_item = ((table * table).sum(axis=1) - n) / (n * (n - 1.0))
    observed_agreement = per_item.mean()
    chance = float((p * p).sum())
    return _ratio(1.0 - observed_agreement, 1.0 - chance)


def _count_table(items: list[dict], idx: dict) -> np.ndarray:
    """Items x categories: how many annotators put the item in each category."""
    k = len(idx)
    rows = np.repeat(np.arange(len(items)), [len(it) for it in items])
    cols = np.array([idx[c] for it in items for c in it.values()], dtype=np.int64)
    return np.bincount(rows * k + cols, minlength=len(items) * k).reshape(len(items), k).astype(np.float64)


def krippendorff_alpha(ratings: Ratings) -> float:
    """Krippendorff's alpha, nominal level, for any number of annotators and missing ratings.

    Items rated fewer than twice are not pairable and are left out. From the coincidence matrix
    ``o[c, k] = sum_u n_uc * (n_uk - [c == k]) / (m_u - 1)`` (``n_uc`` ratings of category ``c`` on
    item ``u``, ``m_u`` ratings on it) with marginals ``n_c`` and total ``n``:
    ``alpha = 1 - (n - 1) * (n - sum_c o[c, c]) / (n^2 - sum_c n_c^2)``. NaN when no item is rated
    twice or all pairable ratings are one category (the ``krippendorff`` package raises then).
    Equals ``krippendorff.alpha(reliability_data, level_of_measurement="nominal")``.
    """
    items = [it for it in _items(ratings) if len(it) >= 2]
    if not items:
        return _NAN
    idx = _index(c for it in items for c in it.values())
    table = _count_table(items, idx)
    m = table.sum(axis=1)
    # o[c, c] summed over c, and the marginals n_c (each pairable rating counts once: sum_k o[c, k] = n_c)
    same = float(((table * (table - 1.0)).sum(axis=1) / (m - 1.0)).sum())
    n_c = table.sum(axis=0)
    n = float(n_c.sum())
    observed = n - same
    expected = (n * n - float((n_c * n_c).sum())) / (n - 1.0)
    return _ratio(observed, expected)


def tag_ratings(datasets: Mapping[Hashable, Dataset], *, label: str | None = None) -> dict[str, dict]:
    """Ratings from the tags of each annotator's dataset: ``{item name: {annotator: category}}``.

    Items are matched by name, in order of first appearance. Without ``label`` (single-label
    classification) the category is the item's tag label, None when the annotator's dataset lacks
    the item or the item has no tag; an item with two different tag labels raises ValueError. With
    ``label`` (multi-label classification, one label at a time) the category is whether the item
    carries that tag, True or False, None only when the dataset lacks the item. Pass
    ``.values()`` of the result to the coefficients.
    """
    out: dict[str, dict] = {}
    for annotator, ds in datasets.items():
        for item in ds.items:
            tags = {s.label for s in item.shapes if s.kind == "tag"}
            row = out.setdefault(item.name, {})
            if label is not None:
                row[annotator] = label in tags
            elif len(tags) > 1:
                raise ValueError(
                    f"item {item.name!r} of annotator {annotator!r} has {len(tags)} tags "
                    f"({', '.join(sorted(tags))}); pass label= to compare one label at a time"
                )
            else:
                row[annotator] = next(iter(tags), None)
    return out

"""Tests for limner.quality.agreement.

Expected values are worked out by hand in the comments (or come from the published examples of
Fleiss 1971 and Krippendorff 2011); the cross-checks compare with scikit-learn's
``cohen_kappa_score``, statsmodels' ``fleiss_kappa`` and the ``krippendorff`` package on the same
random data, several seeds, and on the edge cases.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from limner.core.dataset import Dataset, Item
from limner.core.shapes import Shape
from limner.quality import agreement
from limner.quality.agreement import cohen_kappa, fleiss_kappa, krippendorff_alpha, pairwise_cohen_kappa, tag_ratings

NAN = float("nan")


def same(got: float, expected: float, tol: float = 1e-12) -> bool:
    if math.isnan(expected):
        return math.isnan(got)
    return got == pytest.approx(expected, abs=tol)


def two(first: list, second: list) -> list[dict]:
    """Ratings of two annotators ``a`` and ``b`` (None: not rated)."""
    return [{"a": x, "b": y} for x, y in zip(first, second)]


def table_items(table: list[list[int]]) -> list[dict]:
    """Items from an items x categories count table (rater names are arbitrary per item)."""
    items = []
    for row in table:
        item, r = {}, 0
        for category, n in enumerate(row):
            for _ in range(n):
                item[f"r{r}"] = category
                r += 1
        items.append(item)
    return items


def test_exports():
    assert sorted(agreement.__all__) == [
        "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "pairwise_cohen_kappa", "tag_ratings",
    ]  # fmt: skip


# -- Cohen's kappa ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, second, expected",
    [
        # 2x2 table [[20, 5], [10, 15]]: p_o = 35/50 = 0.7; a says yes 25/50, b 30/50:
        # p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4
        (["y"] * 25 + ["n"] * 25, ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15, 0.4),
        # [[4, 1], [1, 4]]: p_o = 0.8, p_e = 0.5 -> 0.6
        (list("xxxxxyyyyy"), list("xxxxyxyyyy"), 0.6),
        # perfect agreement over two categories
        (list("xyxy"), list("xyxy"), 1.0),
        # always the other category: p_o = 0, p_e = 0.5 -> -1
        (list("xy"), list("yx"), -1.0),
        # each annotator one category, not the same: p_o = 0 and p_e = 0 -> 0
        (list("xxx"), list("yyy"), 0.0),
        # a says x three times, b x, x, y: p_o = 2/3, p_e = 1 * 2/3 -> 0
        (list("xxx"), list("xxy"), 0.0),
        # both use one and the same category: p_e = 1, kappa undefined
        (list("xxxx"), list("xxxx"), NAN),
        # items one of them skipped do not count: the same as (xy, xy)
        (["x", "y", None, "x"], ["x", "y", "y", None], 1.0),
        # nothing rated by both
        (["x", None], [None, "y"], NAN),
        # categories may be any hashable: ints and booleans
        ([1, 2, 2, 1], [1, 2, 1, 1], 0.5),  # p_o = 3/4, p_e = 1/2 * 3/4 + 1/2 * 1/4 = 1/2
        ([True, False, False], [True, False, False], 1.0),
    ],
)
def test_cohen_kappa(first, second, expected):
    assert same(cohen_kappa(two(first, second)), expected)
    assert same(cohen_kappa(two(first, second), "a", "b"), expected)
    # symmetric
    assert same(cohen_kappa(two(first, second), "b", "a"), expected)


def test_cohen_kappa_names_the_pair_among_more():
    items = [{"a": "x", "b": "x", "c": "y"}, {"a": "y", "b": "y", "c": "y"}]
    assert cohen_kappa(items, "a", "b") == 1.0
    assert cohen_kappa(items, "a", "c") == 0.0  # c: always y -> p_e = 1/2, p_o = 1/2
    with pytest.raises(ValueError, match=r"the ratings hold 3 \('a', 'b', 'c'\)"):
        cohen_kappa(items)
    with pytest.raises(ValueError, match="both first= and second="):
        cohen_kappa(items, "a")
    with pytest.raises(ValueError, match="two different annotators"):
        cohen_kappa(items, "a", "a")


def test_nan_ratings_count_as_not_rated():
    assert cohen_kappa([{"a": "x", "b": "x"}, {"a": "y", "b": "y"}, {"a": float("nan"), "b": "x"}]) == 1.0


def test_ratings_must_be_mappings():
    with pytest.raises(ValueError, match=r"ratings\[1\] must be a mapping"):
        cohen_kappa([{"a": 1, "b": 1}, ["a", 1]])


def test_pairwise_cohen_kappa():
    items = [{"a": "x", "b": "x", "c": "y"}, {"a": "y", "b": "y", "c": "y"}, {"a": "x", "b": "y"}]
    got = pairwise_cohen_kappa(items)
    assert list(got) == [("a", "b"), ("a", "c"), ("b", "c")]
    for (p, q), v in got.items():
        assert same(v, cohen_kappa(items, p, q))
    # a, b: [[1, 1], [0, 1]]: p_o = 2/3; a x 2/3, b x 1/3 -> p_e = 2/9 + 2/9 = 4/9 -> (2/3 - 4/9) / (5/9) = 0.4
    assert got[("a", "b")] == pytest.approx(0.4)


# -- Fleiss' kappa ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "items, expected",
    [
        # 3 raters, 2 items: (a, a, a) and (a, b, b). P_1 = (9 - 3) / 6 = 1, P_2 = (1 + 4 - 3) / 6 = 1/3,
        # P = 2/3; p_a = 4/6, p_b = 2/6, P_e = 20/36 = 5/9; kappa = (2/3 - 5/9) / (4/9) = 1/4
        ([{"r1": "a", "r2": "a", "r3": "a"}, {"r1": "a", "r2": "b", "r3": "b"}], 0.25),
        # raters may differ from item to item, only their number matters
        ([{"x": "a", "y": "a", "z": "a"}, {"u": "a", "v": "b", "w": "b"}], 0.25),
        # perfect agreement, two categories
        ([{"r1": 1, "r2": 1}, {"r1": 2, "r2": 2}], 1.0),
        # 2 raters always disagree, two categories: P = 0, P_e = 1/2 -> -1
        ([{"r1": 1, "r2": 2}, {"r1": 2, "r2": 1}], -1.0),
        # a single category throughout: undefined
        ([{"r1": "a", "r2": "a"}, {"r1": "a", "r2": "a"}], NAN),
        # no items
        ([], NAN),
        # Fleiss (1971) as Wikipedia gives it: 10 items, 14 raters, 5 categories -> 0.210
        (
            table_items([
                [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
            ]),  # fmt: skip
            0.20993070442195527,
        ),
    ],
)
def test_fleiss_kappa(items, expected):
    assert same(fleiss_kappa(items), expected)


@pytest.mark.parametrize(
    "items, message",
    [
        ([{"a": 1, "b": 1}, {"a": 1, "b": 2, "c": 2}], "item 0 has 2, item 1 has 3"),
        ([{"a": 1, "b": 1}, {"a": 1, "b": None}], "at least 2 ratings on every item, item 1 has 1"),
        ([{"a": 1}], "item 0 has 1"),
    ],
)
def test_fleiss_kappa_needs_equal_rating_counts(items, message):
    with pytest.raises(ValueError, match=message):
        fleiss_kappa(items)


# -- Krippendorff's alpha --------------------------------------------------------------------------

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 coders x 12 units with
# missing values: nominal alpha = 0.743
_K = None
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _K, _K, _K],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _K, 3],
    [_K, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _K],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _K],
]


def coders(rows: list[list]) -> list[dict]:
    """Items from a coders x units table (None: not coded)."""
    return [{c: rows[c][u] for c in range(len(rows))} for u in range(len(rows[0]))]


@pytest.mark.parametrize(
    "items, expected",
    [
        (coders(KRIPPENDORFF_2011), 0.743421052631579),
        # units (a, a), (b, b), (a, b): o_aa = 2, o_bb = 2, o_ab = o_ba = 1; n_a = n_b = 3, n = 6;
        # alpha = 1 - (n - 1) (n - sum o_cc) / (n^2 - sum n_c^2) = 1 - 5 * 2 / 18 = 4/9
        (coders([["a", "b", "a"], ["a", "b", "b"]]), 4 / 9),
        # a unit coded once is not pairable and changes nothing
        (coders([["a", "b", "a", "b"], ["a", "b", "b", None]]), 4 / 9),
        # unit (a, a, b): o_aa = 2 * 1 / 2 = 1, o_ab = o_ba = 2 * 1 / 2 = 1; unit (b, b): o_bb = 2;
        # n_a = 2, n_b = 3, n = 5, sum o_cc = 3: alpha = 1 - 4 * 2 / (25 - 13) = 1/3
        ([{"x": "a", "y": "a", "z": "b"}, {"x": "b", "y": "b"}], 1 / 3),
        # perfect agreement over two values
        (coders([[1, 2, 1], [1, 2, 1]]), 1.0),
        # a single value throughout: undefined
        (coders([[1, 1, 1], [1, 1, 1]]), NAN),
        # no unit coded twice: undefined
        (coders([[1, None], [None, 2]]), NAN),
        ([], NAN),
    ],
)
def test_krippendorff_alpha(items, expected):
    assert same(krippendorff_alpha(items), expected)


# -- ratings from datasets -------------------------------------------------------------------------


def tagged(**items: list[str]) -> Dataset:
    return Dataset(items=[Item(name, shapes=[Shape("tag", t) for t in tags]) for name, tags in items.items()])


def test_tag_ratings_single_label():
    ann = tagged(i1=["cat"], i2=["dog"], i3=[])
    bob = tagged(i1=["cat"], i2=["cat"], i4=["dog"])
    ratings = tag_ratings({"ann": ann, "bob": bob})
    assert ratings == {
        "i1": {"ann": "cat", "bob": "cat"},
        "i2": {"ann": "dog", "bob": "cat"},
        "i3": {"ann": None},
        "i4": {"bob": "dog"},
    }
    # i1 agree, i2 not: p_o = 1/2; ann cat 1/2, bob cat 1: p_e = 1/2 -> 0
    assert cohen_kappa(ratings.values()) == 0.0


def test_tag_ratings_multi_label():
    ann = tagged(i1=["cat", "indoor"], i2=["dog"])
    bob = tagged(i1=["indoor"], i2=["dog", "indoor"])
    assert tag_ratings({"ann": ann, "bob": bob}, label="indoor") == {
        "i1": {"ann": True, "bob": True},
        "i2": {"ann": False, "bob": True},
    }
    with pytest.raises(ValueError, match="item 'i1' of annotator 'ann' has 2 tags \\(cat, indoor\\); pass label="):
        tag_ratings({"ann": ann, "bob": bob})


# -- cross-checks with the reference packages ----------------------------------------------------


def random_ratings(seed: int, n_items: int, n_raters: int, n_categories: int, missing: float = 0.0) -> np.ndarray:
    """Items x raters category codes (NaN: missing), raters agreeing with a hidden truth 60 % of
    the time."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_categories, n_items)
    codes = np.where(rng.random((n_items, n_raters)) < 0.6, truth[:, None], rng.integers(0, n_categories, (n_items, n_raters)))
    out = codes.astype(np.float64)
    out[rng.random(out.shape) < missing] = np.nan
    return out


def as_items(codes: np.ndarray, names: list[str] | None = None) -> list[dict]:
    names = names or [f"r{j}" for j in range(codes.shape[1])]
    return [{names[j]: (None if np.isnan(v) else f"c{int(v)}") for j, v in enumerate(row)} for row in codes]


@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_scikit_learn(seed):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    codes = random_ratings(seed, 40 + 10 * seed, 2, 2 + seed % 4)
    labels = [[f"c{int(v)}" for v in codes[:, j]] for j in range(2)]
    expected = sklearn_metrics.cohen_kappa_score(labels[0], labels[1])
    assert cohen_kappa(as_items(codes)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "first, second",
    [(list("xyxy"), list("xyxy")), (list("xxxx"), list("xxxx")), (list("xxx"), list("yyy")), (list("xy"), list("yx"))],
)
def test_cohen_kappa_edge_cases_match_scikit_learn(first, second):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns where kappa is undefined (and returns NaN)
        expected = sklearn_metrics.cohen_kappa_score(first, second)
    assert same(cohen_kappa(two(first, second)), expected)


@pytest.mark.parametrize("seed", range(8))
def test_fleiss_kappa_matches_statsmodels(seed):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    codes = random_ratings(seed, 30 + 5 * seed, 3 + seed % 4, 2 + seed % 3)
    table, _ = inter_rater.aggregate_raters(codes.astype(int))
    expected = inter_rater.fleiss_kappa(table, method="fleiss")
    assert fleiss_kappa(as_items(codes)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("codes", [[[0, 0, 0], [1, 1, 1]], [[0, 0], [0, 0]], [[0, 1], [1, 0]], [[0, 1, 1], [1, 1, 1]]])
def test_fleiss_kappa_edge_cases_match_statsmodels(codes):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    table, _ = inter_rater.aggregate_raters(np.array(codes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels divides 0 by 0 (NaN) for one category
        expected = inter_rater.fleiss_kappa(table, method="fleiss")
    assert same(fleiss_kappa(as_items(np.array(codes, float))), expected)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("missing", [0.0, 0.25])
def test_krippendorff_alpha_matches_krippendorff(seed, missing):
    krippendorff = pytest.importorskip("krippendorff")
    codes = random_ratings(seed, 30 + 5 * seed, 2 + seed % 4, 2 + seed % 3, missing)
    expected = krippendorff.alpha(reliability_data=codes.T, level_of_measurement="nominal")
    assert krippendorff_alpha(as_items(codes)) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_alpha_matches_krippendorff_on_the_published_example():
    krippendorff = pytest.importorskip("krippendorff")
    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011], float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha(coders(KRIPPENDORFF_2011)) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.743, abs=5e-4)


@pytest.mark.parametrize(
    "data, expected, reference",
    [
        # defined by the package: perfect agreement
        ([[1, 2, 1], [1, 2, 1]], 1.0, "value"),
        # the package raises where alpha is undefined; we return NaN
        ([[1, 1, 1], [1, 1, 1]], NAN, "There has to be more than one value in the domain"),
        ([[1, np.nan], [np.nan, 2]], NAN, "at least one unit with values assigned by at least two coders"),
    ],
)
def test_krippendorff_alpha_edge_cases(data, expected, reference):
    krippendorff = pytest.importorskip("krippendorff")
    data = np.array(data, float)
    if reference == "value":
        assert krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") == expected
    else:
        with pytest.raises(ValueError, match=reference):
            krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert same(krippendorff_alpha(as_items(data.T)), expected)


@pytest.mark.parametrize("seed", range(4))
def test_two_annotators_complete_data_relations(seed):
    """With two annotators and no missing rating, Fleiss' kappa equals Scott's pi, and
    Krippendorff's alpha = 1 - (1 - pi) * (2N - 1) / (2N) (the small-sample correction)."""
    codes = random_ratings(seed, 25, 2, 3)
    items = as_items(codes)
    pi = fleiss_kappa(items)
    n = len(items)
    assert krippendorff_alpha(items) == pytest.approx(1 - (1 - pi) * (2 * n - 1) / (2 * n), abs=1e-12)

"""Splits by ratio, stratified so rare labels land in every split; label remapping."""

from __future__ import annotations

from collections import Counter

import pytest

from limner.core import Dataset, Item, Label, LabelSchema, Shape
from limner.core.splits import assign_splits, parse_ratios, remap_labels
from limner.errors import ValidationError


def _dataset(n=200, rare_every=25) -> Dataset:
    ds = Dataset(LabelSchema([Label("cat"), Label("dog"), Label("rare")]))
    for i in range(n):
        shapes = [Shape("tag", "cat" if i % 3 else "dog")]
        if i % rare_every == 0:
            shapes.append(Shape("tag", "rare"))
        ds.items.append(Item(f"{i}.jpg", shapes=shapes))
    return ds


@pytest.mark.parametrize(
    "text, expected",
    [
        ("train=0.8,val=0.1,test=0.1", {"train": 0.8, "val": 0.1, "test": 0.1}),
        ("80,10,10", {"train": 0.8, "val": 0.1, "test": 0.1}),
        ("train=3,val=1", {"train": 0.75, "val": 0.25}),
    ],
)
def test_parse_ratios(text, expected):
    assert parse_ratios(text) == pytest.approx(expected)


@pytest.mark.parametrize("text, message", [("train=x", "'x' is not a number"), ("train=0", "more than 0"), ("1,1,1,1", "fourth split")])
def test_parse_ratios_errors(text, message):
    with pytest.raises(ValidationError) as e:
        parse_ratios(text)
    assert message in e.value.detail


def test_stratified_split_puts_rare_label_in_every_split_and_is_deterministic():
    ds = _dataset()
    counts = assign_splits(ds, parse_ratios("80,10,10"), seed=3)
    assert sum(counts.values()) == 200
    assert 150 <= counts["train"] <= 165 and 15 <= counts["val"] <= 25 and 15 <= counts["test"] <= 25
    rare = Counter(it.subset for it in ds.items if any(s.label == "rare" for s in it.shapes))
    assert set(rare) == {"train", "val", "test"}  # 8 rare items: at least one in each split
    first = [it.subset for it in ds.items]
    ds2 = _dataset()
    assign_splits(ds2, parse_ratios("80,10,10"), seed=3)
    assert [it.subset for it in ds2.items] == first
    ds3 = _dataset()
    assign_splits(ds3, parse_ratios("80,10,10"), seed=4)
    assert [it.subset for it in ds3.items] != first


def test_plain_split_matches_ratios_exactly():
    ds = _dataset(100)
    assert assign_splits(ds, {"train": 0.7, "val": 0.3}, stratify=False) == {"train": 70, "val": 30}


def test_remap_merges_and_drops():
    ds = _dataset(10, rare_every=5)
    changed = remap_labels(ds, {"dog": "animal", "cat": "animal", "rare": None})
    assert [lb.name for lb in ds.schema] == ["animal"]
    assert {s.label for it in ds.items for s in it.shapes} == {"animal"}
    assert changed["shapes of 'rare' dropped"] == 2
    with pytest.raises(ValidationError) as e:
        remap_labels(ds, {"zebra": "x"})
    assert "'zebra' is not a label" in e.value.detail

"""Dataset splits (train/val/test by ratios, stratified by label) and label remapping.

Stratification follows iterative stratification for multi-label data (Sechidis, Tsoumakas and
Vlahavas, 2011): items are placed rarest label first, each into the split that still needs that
label most, so a rare class lands in every split that can take it.
"""

from __future__ import annotations

import random
from collections import Counter

from limner.core.dataset import Dataset, Item
from limner.errors import ValidationError

__all__ = ["assign_splits", "parse_ratios", "remap_labels"]


def parse_ratios(text: str) -> dict[str, float]:
    """'train=0.8,val=0.1,test=0.1' (or '80,10,10' for train/val/test) -> normalised ratios."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    out: dict[str, float] = {}
    default = ("train", "val", "test")
    for i, p in enumerate(parts):
        name, _, value = p.rpartition("=")
        if not name:
            if i >= len(default):
                raise ValidationError(f"split ratios: name the fourth split and on, as name=ratio (got {p!r})", field="split")
            name = default[i]
        try:
            out[name] = float(value)
        except ValueError:
            raise ValidationError(f"split ratios: {value!r} is not a number", field="split") from None
        if out[name] < 0:
            raise ValidationError(f"split ratios: {name} is negative", field="split")
    total = sum(out.values())
    if not out or total <= 0:
        raise ValidationError("split ratios must add up to more than 0, e.g. train=0.8,val=0.2", field="split")
    return {k: v / total for k, v in out.items()}


def _labels(item: Item) -> set[str]:
    return {s.label for s in item.shapes}


def assign_splits(dataset: Dataset, ratios: dict[str, float], *, seed: int = 0, stratify: bool = True) -> dict[str, int]:
    """Set every item's subset; returns the item count per split. Deterministic for a seed."""
    names = list(ratios)
    items = list(dataset.items)
    rng = random.Random(seed)
    rng.shuffle(items)
    n = len(items)
    want = {s: ratios[s] * n for s in names}
    if not stratify:
        bounds, acc = [], 0.0
        for s in names:
            acc += want[s]
            bounds.append(round(acc))
        start = 0
        for s, end in zip(names, bounds):
            for it in items[start:end]:
                it.subset = s
            start = end
        return Counter(it.subset for it in dataset.items)
    label_count = Counter(lb for it in items for lb in _labels(it))
    live = [s for s in names if ratios[s] > 0]
    # a label with at least one item per split is wanted at least once in every split; the
    # larger splits give up what that costs
    desired: dict[str, dict[str, float]] = {s: {} for s in names}
    for lb, c in label_count.items():
        base = {s: ratios[s] * c for s in names}
        if c >= len(live):
            boosted = {s for s in live if base[s] < 1.0}
            rest = sum(base[s] for s in names if s not in boosted)
            spare = c - len(boosted)
            for s in names:
                base[s] = 1.0 if s in boosted else (base[s] * spare / rest if rest else 0.0)
        for s in names:
            desired[s][lb] = base[s]
    need_label = {s: dict(desired[s]) for s in names}
    need_items = dict(want)
    # rarest label first; items without labels go last, by item count alone
    keyed = []
    for it in items:
        labels = _labels(it)
        rarest = min((label_count[lb] for lb in labels), default=n + 1)
        keyed.append((rarest, it, labels))
    keyed.sort(key=lambda x: x[0])
    for rarest, it, labels in keyed:
        if labels:
            lb = min(labels, key=lambda x: (label_count[x], x))
            best = max(
                names,
                key=lambda s: (
                    need_label[s][lb] > 0,
                    need_label[s][lb] / desired[s][lb] if desired[s][lb] > 0 else 0.0,
                    need_items[s],
                    -names.index(s),
                ),
            )
        else:
            best = max(names, key=lambda s: (need_items[s], -names.index(s)))
        it.subset = best
        need_items[best] -= 1
        for x in labels:
            need_label[best][x] -= 1
    return Counter(it.subset for it in dataset.items)


def remap_labels(dataset: Dataset, mapping: dict[str, str | None]) -> Counter:
    """Rename or merge labels (old -> new) and drop those mapped to None; returns what changed."""
    from limner.core.schema import Label, LabelSchema

    changed: Counter = Counter()
    for old in mapping:
        if old not in dataset.schema:
            raise ValidationError(f"label remap: {old!r} is not a label of this dataset", field="remap")
    for it in dataset.items:
        kept = []
        for s in it.shapes:
            if s.label in mapping:
                new = mapping[s.label]
                if new is None:
                    changed[f"shapes of {s.label!r} dropped"] += 1
                    continue
                changed[f"shapes relabelled {s.label!r} -> {new!r}"] += 1
                s.label = new
            kept.append(s)
        it.shapes = kept
    labels: list[Label] = []
    seen: dict[str, Label] = {}
    for lb in dataset.schema:
        target = mapping.get(lb.name, lb.name)
        if target is None:
            continue
        if target in seen:  # merged: union of kinds and attributes
            merged = seen[target]
            merged.kinds = sorted(set(merged.kinds) | set(lb.kinds)) if merged.kinds and lb.kinds else []
            have = {a.name for a in merged.attributes}
            merged.attributes += [a for a in lb.attributes if a.name not in have]
            continue
        copy = Label.from_dict(lb.to_dict() | {"name": target, "parent": None})
        copy.parent = lb.parent if lb.parent is None else mapping.get(lb.parent, lb.parent)
        seen[target] = copy
        labels.append(copy)
    for lb in labels:
        if lb.parent is not None and lb.parent not in seen:
            lb.parent = None
    dataset.schema = LabelSchema(labels)
    return changed

"""What a new catalogue changes for students: programmes added, removed and changed, each change named per field
and, for requirements, per scheme and per requirement (a mandatory subject added, a combination's need changed), so
an administrator reads what activating it does before anyone else sees it.

Order is not a change: schemes are matched by label, references by what they name, combinations by their options.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from .programme import Programme, Requirements, Scheme

# The programme's own fields, compared as values; careers, a list, is compared item by item.
FIELDS = ("name", "faculty", "department", "degree", "campus", "duration", "url", "description", "full_time",
          "part_time", "evening")
COUNTS = ("csec_passes", "cape_passes", "cape_units")


@dataclass(frozen=True)
class FieldChange:
    field: str
    scheme: str | None  # the scheme's label ("" for an unlabelled one); None for a programme's own fields
    before: object  # None when the item is added
    after: object  # None when the item is removed

    def as_dict(self) -> dict:
        return {"field": self.field, "scheme": self.scheme, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class Changed:
    programme: Programme  # as it is after
    fields: tuple[FieldChange, ...]

    def as_dict(self) -> dict:
        return {"id": self.programme.id, "name": self.programme.name, "fields": [f.as_dict() for f in self.fields]}


@dataclass(frozen=True)
class CatalogueDiff:
    added: tuple[Programme, ...]  # in the new catalogue's order
    removed: tuple[Programme, ...]  # in the old catalogue's order
    changed: tuple[Changed, ...]
    unchanged: int

    def as_dict(self) -> dict:
        return {"added": [p.summary() for p in self.added], "removed": [p.summary() for p in self.removed],
                "changed": [c.as_dict() for c in self.changed], "unchanged": self.unchanged}


def diff(before: Sequence[Programme], after: Sequence[Programme]) -> CatalogueDiff:
    """What going from the `before` catalogue to `after` changes, programmes matched by id."""
    old = {p.id: p for p in before}
    new = {p.id for p in after}
    changed, unchanged = [], 0
    for programme in after:
        if programme.id in old:
            fields = tuple(programme_changes(old[programme.id], programme))
            if fields:
                changed.append(Changed(programme, fields))
            else:
                unchanged += 1
    return CatalogueDiff(tuple(p for p in after if p.id not in old), tuple(p for p in before if p.id not in new),
                         tuple(changed), unchanged)


def programme_changes(before: Programme, after: Programme) -> Iterable[FieldChange]:
    for name in FIELDS:
        if getattr(before, name) != getattr(after, name):
            yield FieldChange(name, None, getattr(before, name), getattr(after, name))
    yield from _items("careers", None, before.careers, after.careers)
    kept, gone, new = _match(before.schemes, after.schemes, lambda s: s.label)
    for scheme in gone:
        yield FieldChange("scheme", scheme.label, str(scheme), None)
    for scheme in new:
        yield FieldChange("scheme", scheme.label, None, str(scheme))
    for old, now in kept:
        yield from scheme_changes(old, now)


def scheme_changes(before: Scheme, after: Scheme) -> Iterable[FieldChange]:
    label, old, new = after.label, before.requirements, after.requirements
    for name in COUNTS:
        if getattr(old, name) != getattr(new, name):
            yield FieldChange(name, label, getattr(old, name), getattr(new, name))
    yield from _mandatory(label, old, new)
    yield from _combinations(label, old, new)
    yield from _items("not_counted", label, map(str, old.not_counted), map(str, new.not_counted))
    yield from _items("conditions", label, before.conditions, after.conditions)


def _mandatory(label: str, old: Requirements, new: Requirements) -> Iterable[FieldChange]:
    """A reference added or removed, or the same subject (or unit) at another grade."""
    _, gone, added = _match(old.mandatory, new.mandatory, lambda r: r)
    regraded, gone, added = _match(gone, added, lambda r: r.part)
    yield from _entries("mandatory", label, regraded, gone, added)


def _combinations(label: str, old: Requirements, new: Requirements) -> Iterable[FieldChange]:
    """Combinations are the same when they list the same options: then only a changed need is a change. Ones
    listing the same subjects at other grades are one combination changed, not one removed and one added."""
    same, gone, added = _match(old.combinations, new.combinations, lambda c: frozenset(c.options))
    for before, after in same:
        if before.need != after.need:
            yield FieldChange("combination", label, str(before), str(after))
    regraded, gone, added = _match(gone, added, lambda c: frozenset(o.part for o in c.options))
    yield from _entries("combination", label, regraded, gone, added)


def _entries(field: str, label: str, pairs, gone, added) -> Iterable[FieldChange]:
    for before, after in pairs:
        yield FieldChange(field, label, str(before), str(after))
    for item in gone:
        yield FieldChange(field, label, str(item), None)
    for item in added:
        yield FieldChange(field, label, None, str(item))


def _items(field: str, label: str | None, before: Iterable[str], after: Iterable[str]) -> Iterable[FieldChange]:
    """One entry per item of a list added or removed."""
    _, gone, added = _match(tuple(before), tuple(after), lambda item: item)
    for item in gone:
        yield FieldChange(field, label, item, None)
    for item in added:
        yield FieldChange(field, label, None, item)


def _match(before: Sequence, after: Sequence, key: Callable) -> tuple[list[tuple], list, list]:
    """Pairs of items with equal keys (each used once, in order), then the unpaired items of each side."""
    waiting: dict[object, list[int]] = {}
    for index, item in enumerate(after):
        waiting.setdefault(key(item), []).append(index)
    pairs, gone, used = [], [], set()
    for item in before:
        found = waiting.get(key(item))
        if found:
            used.add(found[0])
            pairs.append((item, after[found.pop(0)]))
        else:
            gone.append(item)
    return pairs, gone, [item for index, item in enumerate(after) if index not in used]

"""A catalogue compiled into arrays, so a search costs a few vectorised passes instead of a loop over programmes.

`beuwi.domain.match` stays the definition of a search's answer; `CompiledCatalogue.match` returns the same answer
(a property test holds the two together) fast enough for catalogues of 100,000 programmes.

The rows are the catalogue's *schemes* (a programme has one, or several alternative routes). Every distinct subject
reference (a subject, or one CAPE unit, with an optional minimum grade; an associate degree's GPA) becomes an *atom*,
and a profile meets a set of atoms (asked of the domain, atom by atom, for the subjects the profile holds). Inverted
lists from each atom to the mandatory entries and combination options naming it give, per scheme, how many mandatory
atoms are met and, per combination, how many options are met, at a cost that grows with what the profile meets
rather than with the catalogue. A scheme's *gaps* are exactly the domain's unmet requirements (pass and unit counts
less the subjects the scheme does not count, missing mandatory references, short combinations); a programme is
eligible when one of its schemes has none and a near miss when its closest scheme has one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from beuwi.domain import (Candidate, Match, NearMiss, Profile, Programme, Subject, SubjectList, SubjectRef, candidates,
                          rank, referenced, route)
from beuwi.domain.matching import SUGGESTIONS

_INDEX = np.int64
_POSTING = np.int32
COUNTS = ("CSEC", "CAPE", "units")  # what a scheme counts: CSEC passes, CAPE passes (whole subjects), CAPE units


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start..start+length-1 of every range, concatenated."""
    if not len(starts):
        return np.zeros(0, _INDEX)
    ends = np.cumsum(lengths)
    offsets = np.repeat(starts - (ends - lengths), lengths)
    return np.arange(ends[-1], dtype=_INDEX) + offsets


def _postings(keys, values, count: int) -> list[np.ndarray]:
    """For each key 0..count-1, the values paired with it (repeats kept), as one array each.

    Postings are the bulk of every search's memory traffic, so they are 32-bit."""
    keys_array, values_array = np.asarray(keys, _INDEX), np.asarray(values, _POSTING)
    order = np.argsort(keys_array, kind="stable")
    bounds = np.searchsorted(keys_array[order], np.arange(count + 1))
    ordered = values_array[order]
    return [ordered[bounds[k]:bounds[k + 1]] for k in range(count)]


@dataclass(frozen=True)
class CappedMatch(Match):
    near_misses_total: int = 0  # near misses, described or not


@dataclass(frozen=True)
class _Gaps:
    """The failing requirements of the *live* schemes: those one addition could still open.

    Every other scheme misses mandatory references of two or more different subjects, so it is neither met, nor one
    requirement short, nor opened by any one addition, and is never looked at further.
    """

    live: np.ndarray  # scheme indexes, in catalogue order
    count: np.ndarray  # per live scheme: how many requirements fail (0: met)
    short: dict[str, np.ndarray]  # per count (COUNTS), per live scheme: how many it is short
    combinations: np.ndarray  # the live schemes' combination indexes
    combination_owner: np.ndarray  # per one of those: its scheme's position in `live`
    combination_short: np.ndarray  # per one of those: options still needed
    met: np.ndarray  # per atom
    best: np.ndarray  # per programme: the fewest gaps of any of its live schemes (a large number if none is live)


@dataclass(frozen=True)
class _Effect:
    """What one candidate adds: the atoms it newly meets, and the passes and units it adds where they count."""

    candidate: Candidate
    subject: Subject  # the subject it counts as, for the schemes that do not count it
    atoms: np.ndarray
    adds: dict[str, int]


class CompiledCatalogue:
    """Read-only arrays built once per catalogue version; safe to share between threads."""

    def __init__(self, programmes: Sequence[Programme]):
        self.programmes = tuple(programmes)
        self._atoms: dict[SubjectRef, int] = {}
        scheme_programme, mandatory_scheme, mandatory_atom, repeats = [], [], [], []
        combination_need, option_count, combinations, option_atom, shared = [], [], [], [], []
        needed = {count: [] for count in COUNTS}
        uncounted_subject, uncounted_scheme = [], []
        subject_list = SubjectList.default()
        for index, programme in enumerate(self.programmes):
            for scheme in programme.schemes:
                row, requirements = len(scheme_programme), scheme.requirements
                scheme_programme.append(index)
                subjects = [ref.subject for ref in requirements.mandatory]
                repeats.append(len(set(subjects)) < len(subjects))
                for ref in requirements.mandatory:
                    mandatory_scheme.append(row)
                    mandatory_atom.append(self._atom(ref))
                combinations.append(len(requirements.combinations))
                for combination in requirements.combinations:
                    combination_need.append(combination.need)
                    option_count.append(len(combination.options))
                    shared.append(len({o.subject for o in combination.options}) < len(combination.options))
                    option_atom.extend(self._atom(o) for o in combination.options)
                for count, value in zip(COUNTS, (requirements.csec_passes, requirements.cape_passes,
                                                 requirements.cape_units)):
                    needed[count].append(value)
                for subject in subject_list.uncounted(requirements.not_counted):
                    uncounted_subject.append(subject)
                    uncounted_scheme.append(row)
        schemes, atoms = len(scheme_programme), len(self._atoms)
        self._atom_refs = tuple(self._atoms)
        self._atoms_of: dict[Subject, list[tuple[int, SubjectRef]]] = {}
        for ref, atom in self._atoms.items():
            self._atoms_of.setdefault(ref.subject, []).append((atom, ref))
        self._grades = referenced(self._atom_refs)  # each distinct reference once
        # A subject not held meets every reference to it and adds its passes (and units), whoever adds it.
        self._new_subject = {subject: self._new(subject, subject_list) for subject in self._grades}

        self._scheme_programme = np.asarray(scheme_programme, _INDEX)
        # Entries of one scheme (and options of one combination) are contiguous: start and count locate them.
        self._mandatory_atom = np.asarray(mandatory_atom, _POSTING)
        self._mandatory_size = np.bincount(np.asarray(mandatory_scheme, _INDEX), minlength=schemes)
        self._mandatory_start = _starts(self._mandatory_size)
        self._mandatory_by_atom = _postings(mandatory_atom, mandatory_scheme, atoms)
        self._repeats_subject = np.asarray(repeats, bool)
        self._combination_count = np.asarray(combinations, _INDEX)
        self._combination_start = _starts(self._combination_count)
        self._combination_need = np.asarray(combination_need, _INDEX)
        self._option_count = np.asarray(option_count, _INDEX)
        # Options naming one subject (its units, the whole): one addition may meet several of them at once.
        self._shares_subject = np.asarray(shared, bool)
        self._option_start = _starts(self._option_count)
        self._option_atom = np.asarray(option_atom, _POSTING)
        option_combination = np.repeat(np.arange(len(combination_need), dtype=_POSTING), self._option_count)
        self._options_by_atom = _postings(option_atom, option_combination, atoms)
        self._needed = {count: np.asarray(values, _INDEX) for count, values in needed.items()}
        self._uncounted: dict[Subject, np.ndarray] = {}
        for subject, row in zip(uncounted_subject, uncounted_scheme):
            self._uncounted.setdefault(subject, []).append(row)
        self._uncounted = {s: np.asarray(rows, _INDEX) for s, rows in self._uncounted.items()}

    def warm_up(self) -> None:
        """Run one search through every step, so the first student does not pay one-off costs (lazy imports)."""
        self.match(Profile(SubjectRef(ref.subject) for ref in self._atom_refs[:1]))

    def _atom(self, ref: SubjectRef) -> int:
        return self._atoms.setdefault(ref, len(self._atoms))

    def match(self, profile: Profile, suggestions: int = SUGGESTIONS, near_misses: int | None = None) -> CappedMatch:
        """What `beuwi.domain.match` answers; `near_misses` caps how many near misses are described."""
        gaps = self._gaps(profile)
        eligible = [self.programmes[i] for i in np.flatnonzero(gaps.best == 0)]
        near_index = np.flatnonzero(gaps.best == 1)
        near = []
        for programme in (self.programmes[i] for i in near_index[:near_misses]):
            best = route(programme, profile)
            near.append(NearMiss(programme, best.gaps[0], best.scheme))
        return CappedMatch(eligible, near, self._suggest(profile, gaps, suggestions), len(near_index))

    def _met(self, profile: Profile) -> np.ndarray:
        met = np.zeros(len(self._atom_refs), bool)
        for subject in profile.held:
            for atom, ref in self._atoms_of.get(subject, ()):
                met[atom] = profile.meets(ref)
        return met

    def _counted(self, profile: Profile) -> dict[str, np.ndarray | int]:
        """Per count, what the profile has, less (per scheme, where some scheme does not count a held subject) what
        each scheme does not count."""
        held = {"CSEC": {s: 1 for s in profile.csec}, "CAPE": {s: 1 for s in profile.whole}, "units": {}}
        for subject, _ in profile.units:
            held["units"][subject] = held["units"].get(subject, 0) + 1
        counted = {}
        for count, amounts in held.items():
            total = sum(amounts.values())
            dropped = [(self._uncounted[s], n) for s, n in amounts.items() if s in self._uncounted]
            if not dropped:
                counted[count] = total
                continue
            rows = np.concatenate([rows for rows, _ in dropped])
            weights = np.concatenate([np.full(len(rows), n) for rows, n in dropped])
            counted[count] = total - np.bincount(rows, weights, minlength=len(self._scheme_programme)).astype(_INDEX)
        return counted

    def _gaps(self, profile: Profile) -> _Gaps:
        met = self._met(profile)
        met_atoms = np.flatnonzero(met)
        mandatory_met = np.bincount(_concat(self._mandatory_by_atom, met_atoms),
                                    minlength=len(self._scheme_programme))
        missing = self._mandatory_size - mandatory_met
        live = np.flatnonzero((missing <= 1) | self._repeats_subject)

        options_met = np.bincount(_concat(self._options_by_atom, met_atoms), minlength=len(self._combination_need))
        combinations = _ranges(self._combination_start[live], self._combination_count[live])
        owner = np.repeat(np.arange(len(live)), self._combination_count[live])
        combination_short = self._combination_need[combinations] - options_met[combinations]

        count = missing[live] + np.bincount(owner[combination_short > 0], minlength=len(live))
        short = {}
        for name, counted in self._counted(profile).items():
            have = counted[live] if isinstance(counted, np.ndarray) else counted
            short[name] = np.maximum(self._needed[name][live] - have, 0)
            count += short[name] > 0
        best = np.full(len(self.programmes), np.iinfo(_INDEX).max, _INDEX)
        programme = self._scheme_programme[live]
        starts = _runs(programme)
        if len(live):
            best[programme[starts]] = np.minimum.reduceat(count, starts)
        return _Gaps(live, count, short, combinations, owner, combination_short, met, best)

    def _effects(self, profile: Profile, met: np.ndarray) -> list[_Effect]:
        effects = []
        for candidate in candidates(profile, self._grades):
            if candidate.kind == "subject":
                effects.append(_Effect(candidate, *self._new_subject[candidate.ref.subject]))
                continue
            subject = candidate.ref.subject
            after = candidate.apply(profile)
            adds = {"CAPE": after.passes["CAPE"] - profile.passes["CAPE"], "units": len(after.units) - len(profile.units)}
            new = [atom for atom, ref in self._atoms_of.get(subject, ()) if not met[atom] and after.meets(ref)]
            effects.append(_Effect(candidate, subject, np.asarray(new, _INDEX), adds))
        return effects

    def _new(self, subject: Subject, subject_list: SubjectList) -> tuple[Subject, np.ndarray, dict[str, int]]:
        adds = {"CSEC": 1} if subject.level == "CSEC" else {"CAPE": 1, "units": subject_list.unit_count(subject)}
        return subject, np.asarray([atom for atom, _ in self._atoms_of[subject]], _INDEX), adds

    def _suggest(self, profile: Profile, gaps: _Gaps, limit: int) -> list:
        """Count, per candidate, the failing programmes it alone would open.

        A candidate opens a scheme when it closes every gap: it newly meets each missing mandatory reference, enough
        unmet options of each short combination, and adds enough of each short count (where the scheme counts it).
        So each (scheme, candidate) pair is counted once per gap it closes and compared with the scheme's gap count;
        a programme is opened when any of its schemes is.
        """
        effects = self._effects(profile, gaps.met)
        # One addition meets at most one option of a combination, or its (at most 3) options naming one subject.
        short_by = gaps.combination_short
        closable = (short_by == 1) | ((short_by <= 3) & self._shares_subject[gaps.combinations])
        hopeless = np.bincount(gaps.combination_owner[(short_by > 0) & ~closable], minlength=len(gaps.live)) > 0
        blocked = (gaps.short["CSEC"] > 1) | (gaps.short["CAPE"] > 1) | (gaps.short["units"] > 2) | hopeless
        failing = gaps.best[self._scheme_programme[gaps.live]] > 0
        rows = np.flatnonzero((gaps.count > 0) & ~blocked & failing)  # positions in gaps.live
        if not len(rows) or not effects:
            return []
        position = np.full(len(gaps.live), -1, _INDEX)
        position[rows] = np.arange(len(rows), dtype=_INDEX)
        width = len(effects)
        closers = _Closers(effects, len(self._atom_refs))
        pairs, weights = [], []

        schemes = gaps.live[rows]
        entries = _ranges(self._mandatory_start[schemes], self._mandatory_size[schemes])
        owner = np.repeat(np.arange(len(rows), dtype=_INDEX), self._mandatory_size[schemes])
        missing = ~gaps.met[self._mandatory_atom[entries]]
        row_pairs, closer = closers.expand(owner[missing], self._mandatory_atom[entries[missing]])
        pairs.append(row_pairs * width + closer)

        combination_row = position[gaps.combination_owner]
        short = np.flatnonzero((short_by > 0) & closable & (combination_row >= 0))
        options = _ranges(self._option_start[gaps.combinations[short]], self._option_count[gaps.combinations[short]])
        option_owner = np.repeat(short, self._option_count[gaps.combinations[short]])
        unmet_option = ~gaps.met[self._option_atom[options]]
        owners, closer = closers.expand(option_owner[unmet_option], self._option_atom[options[unmet_option]])
        per_combination, hits = np.unique(owners * width + closer, return_counts=True)
        combination, closer = np.divmod(per_combination, width)
        closing = hits >= gaps.combination_short[combination]
        pairs.append(combination_row[combination[closing]] * width + closer[closing])

        for name, short_by in gaps.short.items():
            adding: dict[int, list[int]] = {}
            for k, effect in enumerate(effects):
                if effect.adds.get(name, 0):
                    adding.setdefault(effect.adds[name], []).append(k)
            for adds, ks in adding.items():
                closable = rows[(short_by[rows] > 0) & (short_by[rows] <= adds)]
                pairs.append((position[closable][:, None] * width + np.asarray(ks, _INDEX)[None, :]).ravel())
                for k in ks:  # the schemes among those that do not count the addition: take the pair back
                    uncounted = self._uncounted.get(effects[k].subject)
                    if uncounted is not None:
                        at = np.flatnonzero(np.isin(gaps.live, uncounted))  # positions in gaps.live
                        weights.append(position[at[np.isin(at, closable)]] * width + k)
        closed = np.bincount(np.concatenate(pairs), minlength=len(rows) * width)
        if weights:
            closed = closed - np.bincount(np.concatenate(weights), minlength=len(rows) * width)
        opens = (closed.reshape(len(rows), width) == gaps.count[rows][:, None])
        runs = _runs(self._scheme_programme[schemes])
        if len(runs) < len(rows):  # some programme has several schemes among the rows: it counts once
            opens = np.logical_or.reduceat(opens, runs, axis=0)
        unlocks = opens.sum(axis=0)
        return rank(((e.candidate, int(n)) for e, n in zip(effects, unlocks)), limit)


def _runs(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values starts (the schemes of one programme are a run)."""
    return np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1]))) if len(values) else np.zeros(0, _INDEX)


class _Closers:
    """Per atom, the candidates that newly meet it, as one flat array with a start and a length per atom."""

    def __init__(self, effects: list[_Effect], atoms: int):
        atom = np.concatenate([e.atoms for e in effects]) if effects else np.zeros(0, _INDEX)
        candidate = np.repeat(np.arange(len(effects), dtype=_INDEX), [len(e.atoms) for e in effects])
        order = np.argsort(atom, kind="stable")
        self._candidate = candidate[order]
        self._length = np.bincount(atom, minlength=atoms).astype(_INDEX)
        self._start = _starts(self._length)

    def expand(self, owners: np.ndarray, atoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(owner, candidate) for every candidate that newly meets each (owner, atom)."""
        lengths = self._length[atoms]
        return np.repeat(owners, lengths).astype(_INDEX), self._candidate[_ranges(self._start[atoms], lengths)]


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each run begins when runs of these lengths are laid end to end."""
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(_INDEX) if len(counts) else np.zeros(0, _INDEX)


def _concat(postings: list[np.ndarray], keys: np.ndarray) -> np.ndarray:
    return np.concatenate([postings[k] for k in keys]) if len(keys) else np.zeros(0, _POSTING)

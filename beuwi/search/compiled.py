"""A catalogue compiled into arrays, so a search costs a few vectorised passes instead of a loop over programmes.

`beuwi.domain.match` stays the definition of a search's answer; `CompiledCatalogue.match` returns the same answer
(a property test holds the two together) fast enough for catalogues of 100,000 programmes.

Every distinct subject reference (a subject with an optional minimum grade) becomes an *atom*. A profile meets a
set of atoms. Inverted lists from each atom to the mandatory entries and combination options naming it give, per
programme, how many mandatory atoms are met and, per combination, how many options are met, at a cost that grows
with what the profile meets rather than with the catalogue. A programme's *gaps* are exactly the domain's unmet
requirements (pass counts, missing mandatory references, short combinations): none means eligible, one a near miss.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from beuwi.domain import LEVELS, Match, NearMiss, Profile, Programme, Subject, SubjectRef, Suggestion, unmet
from beuwi.domain.matching import SUGGESTIONS

_INDEX = np.int64
_POSTING = np.int32


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
    """The failing requirements of the *live* programmes: those one subject could still open.

    Every other programme misses mandatory references of two or more different subjects, so it is neither eligible,
    nor a near miss, nor opened by any one subject, and is never looked at further.
    """

    live: np.ndarray  # programme indexes, in catalogue order
    count: np.ndarray  # per live programme: how many requirements fail (0: eligible, 1: near miss)
    passes_short: dict[str, np.ndarray]  # per level, per live programme
    combinations: np.ndarray  # the live programmes' combination indexes
    combination_owner: np.ndarray  # per one of those: its programme's position in `live`
    combination_short: np.ndarray  # per one of those: options still needed
    met: np.ndarray  # per atom


class CompiledCatalogue:
    """Read-only arrays built once per catalogue version; safe to share between threads."""

    def __init__(self, programmes: Sequence[Programme]):
        self.programmes = tuple(programmes)
        self._atoms: dict[SubjectRef, int] = {}
        self._subjects: dict[Subject, int] = {}
        mandatory_programme, mandatory_atom, repeats_subject = [], [], []
        combination_need, option_count, combinations = [], [], []
        option_atom: list[int] = []
        for index, programme in enumerate(self.programmes):
            requirements = programme.requirements
            subjects = [ref.subject for ref in requirements.mandatory]
            repeats_subject.append(len(set(subjects)) < len(subjects))
            for ref in requirements.mandatory:
                mandatory_programme.append(index)
                mandatory_atom.append(self._atom(ref))
            combinations.append(len(requirements.combinations))
            for combination in requirements.combinations:
                combination_need.append(combination.need)
                option_count.append(len(combination.options))
                option_atom.extend(self._atom(o) for o in combination.options)
        atoms = len(self._atoms)
        self._atom_refs = tuple(self._atoms)
        self._atom_subject = np.asarray([self._subjects[r.subject] for r in self._atom_refs], _INDEX)
        self._subject_list = tuple(self._subjects)
        self._atoms_of: dict[Subject, list[tuple[int, SubjectRef]]] = {}
        for ref, atom in self._atoms.items():
            self._atoms_of.setdefault(ref.subject, []).append((atom, ref))

        # Entries of one programme (and options of one combination) are contiguous: start and count locate them.
        self._mandatory_atom = np.asarray(mandatory_atom, _POSTING)
        self._mandatory_size = np.bincount(np.asarray(mandatory_programme, _INDEX), minlength=len(self.programmes))
        self._mandatory_start = _starts(self._mandatory_size)
        self._mandatory_by_atom = _postings(mandatory_atom, mandatory_programme, atoms)
        self._repeats_subject = np.asarray(repeats_subject, bool)
        self._combination_count = np.asarray(combinations, _INDEX)
        self._combination_start = _starts(self._combination_count)
        self._combination_need = np.asarray(combination_need, _INDEX)
        self._option_count = np.asarray(option_count, _INDEX)
        self._option_start = _starts(self._option_count)
        self._option_atom = np.asarray(option_atom, _POSTING)
        option_combination = np.repeat(np.arange(len(combination_need), dtype=_POSTING), self._option_count)
        self._options_by_atom = _postings(option_atom, option_combination, atoms)
        self._passes_needed = {
            "CSEC": np.asarray([p.requirements.csec_passes for p in self.programmes], _INDEX),
            "CAPE": np.asarray([p.requirements.cape_passes for p in self.programmes], _INDEX),
        }
        self._subject_level = {level: np.asarray([s.level == level for s in self._subject_list]) for level in LEVELS}

    def warm_up(self) -> None:
        """Run one search through every step, so the first student does not pay one-off costs (lazy imports)."""
        self.match(Profile((s, None) for s in self._subject_list[:1]))

    def _atom(self, ref: SubjectRef) -> int:
        self._subjects.setdefault(ref.subject, len(self._subjects))
        return self._atoms.setdefault(ref, len(self._atoms))

    def match(self, profile: Profile, suggestions: int = SUGGESTIONS, near_misses: int | None = None) -> CappedMatch:
        """What `beuwi.domain.match` answers; `near_misses` caps how many near misses are described."""
        gaps = self._gaps(profile)
        eligible = [self.programmes[i] for i in gaps.live[gaps.count == 0]]
        near_index = gaps.live[gaps.count == 1]
        near = [NearMiss(p, unmet(p.requirements, profile)[0])
                for p in (self.programmes[i] for i in near_index[:near_misses])]
        return CappedMatch(eligible, near, self._suggest(profile, gaps, suggestions), len(near_index))

    def _gaps(self, profile: Profile) -> _Gaps:
        met = np.zeros(len(self._atom_refs), bool)
        for subject, grade in profile.grades.items():
            for atom, ref in self._atoms_of.get(subject, ()):
                met[atom] = ref.met_by(grade, True)
        met_atoms = np.flatnonzero(met)
        mandatory_met = np.bincount(_concat(self._mandatory_by_atom, met_atoms), minlength=len(self.programmes))
        missing = self._mandatory_size - mandatory_met
        live = np.flatnonzero((missing <= 1) | self._repeats_subject)

        options_met = np.bincount(_concat(self._options_by_atom, met_atoms), minlength=len(self._combination_need))
        combinations = _ranges(self._combination_start[live], self._combination_count[live])
        owner = np.repeat(np.arange(len(live)), self._combination_count[live])
        combination_short = self._combination_need[combinations] - options_met[combinations]

        count = missing[live] + np.bincount(owner[combination_short > 0], minlength=len(live))
        passes_short = {}
        for level in LEVELS:
            passes_short[level] = np.maximum(self._passes_needed[level][live] - profile.passes[level], 0)
            count += passes_short[level] > 0
        return _Gaps(live, count, passes_short, combinations, owner, combination_short, met)

    def _suggest(self, profile: Profile, gaps: _Gaps, limit: int) -> list[Suggestion]:
        """Count, per subject not yet passed, the failing programmes it alone would open (passed at grade I).

        A subject opens a programme when it closes every gap: it is the subject of each missing mandatory reference,
        an unmet option of each combination one short, and of the level of each pass count one short. So each
        (programme, subject) pair is counted once per gap it closes and compared with the programme's gap count.
        """
        open_subjects = np.asarray([s not in profile.grades for s in self._subject_list], bool)
        live = len(gaps.live)
        blocked = np.bincount(gaps.combination_owner[gaps.combination_short > 1], minlength=live) > 0
        for short in gaps.passes_short.values():
            blocked |= short > 1
        candidates = np.flatnonzero((gaps.count > 0) & ~blocked)  # positions in gaps.live
        if not len(candidates) or not open_subjects.any():
            return []
        rank = np.full(live, -1, _INDEX)
        rank[candidates] = np.arange(len(candidates), dtype=_INDEX)
        width = len(self._subject_list)
        pairs = []

        programmes = gaps.live[candidates]
        entries = _ranges(self._mandatory_start[programmes], self._mandatory_size[programmes])
        owner = np.repeat(np.arange(len(candidates), dtype=_INDEX), self._mandatory_size[programmes])
        missing = ~gaps.met[self._mandatory_atom[entries]]
        pairs.append(owner[missing] * width + self._atom_subject[self._mandatory_atom[entries[missing]]])

        combination_owner = rank[gaps.combination_owner]
        closable = np.flatnonzero((gaps.combination_short == 1) & (combination_owner >= 0))
        combinations = gaps.combinations[closable]
        options = _ranges(self._option_start[combinations], self._option_count[combinations])
        option_owner = np.repeat(closable, self._option_count[combinations])
        unmet_option = ~gaps.met[self._option_atom[options]]
        per_combination = np.unique(option_owner[unmet_option] * width
                                    + self._atom_subject[self._option_atom[options[unmet_option]]])
        combination, subject = np.divmod(per_combination, width)
        pairs.append(combination_owner[combination] * width + subject)

        for level, short in gaps.passes_short.items():
            rows = rank[candidates[short[candidates] == 1]]
            pairs.append((rows[:, None] * width + np.flatnonzero(self._subject_level[level])[None, :]).ravel())

        closed = np.bincount(np.concatenate(pairs), minlength=len(candidates) * width).reshape(len(candidates), width)
        opened = ((closed == gaps.count[candidates][:, None]) & open_subjects[None, :]).sum(axis=0)
        ranked = sorted((-int(n), self._subject_list[s].name, self._subject_list[s].level, s)
                        for s, n in enumerate(opened) if n)
        return [Suggestion(self._subject_list[s], -n) for n, _, _, s in ranked[:limit]]


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each run begins when runs of these lengths are laid end to end."""
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(_INDEX) if len(counts) else np.zeros(0, _INDEX)


def _concat(postings: list[np.ndarray], keys: np.ndarray) -> np.ndarray:
    return np.concatenate([postings[k] for k in keys]) if len(keys) else np.zeros(0, _POSTING)

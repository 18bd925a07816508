// Autocomplete ranking: a name starting with the typed word first, common subjects before rare ones, and CSEC before
// CAPE before GCE (every student has CSEC passes), so "phys" then Enter adds Physics (CSEC).

import { LEVELS } from "./references.js";

/** Subjects as /api/subjects lists them, made ready for ranking: words to match and how common each name is
 *  (`programmes` summed over the levels, so Physics at any level counts for Physics (CSEC)). */
export function prepare(subjects) {
  const common = new Map();
  subjects.forEach((s) => common.set(s.name, (common.get(s.name) || 0) + (s.programmes || 0)));
  return subjects.map((s) => ({
    ...s,
    haystack: [s.label, ...s.aliases].join(" ").toLowerCase(),
    names: [s.name, ...s.aliases].map((n) => n.toLowerCase()),
    common: common.get(s.name),
  }));
}

/** 0: the name starts with the word; 1: an alias does; 2: a word of either does; 3: it merely contains it. */
function closeness(subject, word) {
  const [name, ...aliases] = subject.names;
  if (name.startsWith(word)) return 0;
  if (aliases.some((a) => a.startsWith(word))) return 1;
  if (subject.names.some((n) => n.split(/\s+/).some((w) => w.startsWith(word)))) return 2;
  return 3;
}

/** The subjects matching every typed word, best first; the shorter name breaks ties (an engine that does not count
 *  `programmes` yet still offers Physics before Physical Education and Sport). */
export function rank(subjects, query) {
  const words = query.toLowerCase().split(/[\s()]+/).filter(Boolean);
  if (!words.length) return subjects;
  return subjects
    .filter((s) => words.every((w) => s.haystack.includes(w)))
    .map((s) => ({ s, key: [closeness(s, words[0]), -s.common, LEVELS.indexOf(s.level), s.name.length] }))
    .sort((a, b) => compareKeys(a.key, b.key) || a.s.name.localeCompare(b.s.name))
    .map(({ s }) => s);
}

function compareKeys(a, b) {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

// Filters over one search's answer (campus, faculty, study mode, degree), applied in the page without a new search.

const MODES = [
  { field: "full_time", value: "full-time", label: "Full-time" },
  { field: "part_time", value: "part-time", label: "Part-time" },
  { field: "evening", value: "evening", label: "Evening" },
];

/** The study modes a programme offers, as MODES entries. */
export const modesOf = (p) => MODES.filter((m) => p[m.field]);

export const FILTERS = [
  { key: "campus", label: "Campus", values: (p) => [p.campus] },
  { key: "faculty", label: "Faculty", values: (p) => [p.faculty] },
  { key: "mode", label: "Study mode", values: (p) => modesOf(p).map((m) => m.value) },
  { key: "degree", label: "Degree", values: (p) => [p.degree] },
];

const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

/** Each filter's choices: the values the programmes have (modes in their usual order, the rest sorted), plus the one
 *  chosen even if no programme has it, so a shared link's filter can be seen and cleared. */
export function filterChoices(programmes, chosen) {
  return Object.fromEntries(FILTERS.map((filter) => {
    const found = new Set(programmes.flatMap(filter.values).filter(Boolean));
    const chosenValue = chosen[filter.key];
    if (chosenValue && ![...found].some((v) => same(v, chosenValue))) found.add(chosenValue);
    const order = filter.key === "mode" ? MODES.map((m) => m.value) : null;
    const values = [...found].sort(order ? (a, b) => order.indexOf(a) - order.indexOf(b) : (a, b) => a.localeCompare(b));
    return [filter.key, values.map((value) => ({ value, label: modeLabel(value) }))];
  }));
}

const modeLabel = (value) => (MODES.find((m) => m.value === value) || { label: value }).label;

export const active = (filters) => FILTERS.filter((f) => filters[f.key]);

function matches(p, filters) {
  return active(filters).every((f) => f.values(p).some((v) => same(v, filters[f.key])));
}

/** The answer as the filters leave it: its programmes, and the faculty counts recomputed in the engine's order. */
export function applyFilters(result, filters) {
  if (!active(filters).length) return { ...result, near_misses_total: result.near_misses_total ?? result.near_misses.length };
  const eligible = result.eligible.filter((p) => matches(p, filters));
  const nearMisses = result.near_misses.filter((p) => matches(p, filters));
  const faculties = result.faculties
    .map((f) => ({ faculty: f.faculty, eligible: eligible.filter((p) => p.faculty === f.faculty).length }))
    .filter((f) => f.eligible > 0);
  return { ...result, eligible, faculties, near_misses: nearMisses, near_misses_total: nearMisses.length };
}

/** The filters a URL names, and the URL's filter part. */
export const readFilters = (params) =>
  Object.fromEntries(FILTERS.map((f) => [f.key, (params.get(f.key) || "").trim()]).filter(([, v]) => v));

export function writeFilters(params, filters) {
  active(filters).forEach((f) => params.set(f.key, filters[f.key]));
}

/** "Mona, Evening": what the filters show, for the summary and the printout. */
export const filtersText = (filters) => active(filters).map((f) => modeLabel(filters[f.key])).join(", ");

// Programme Search: subjects in, programmes out. The URL is the state
// (?s=Name (LEVEL[ Un][:GRADE])&campus=…&mode=…&programme=ID), so a search can be shared and the back button walks it.

import { fill, h, plural } from "../shared/dom.js";
import { checkList, facultyAnchor, facultyGroups, modes, nearList, suggestionItems } from "./answer.js";
import { refNodes } from "./checks.js";
import { changedChips, chipItems, gradesOf, unitsOf, withChip } from "./chips.js";
import { subjectCombobox } from "./combobox.js";
import { active, applyFilters, filterChoices, FILTERS, filtersText, readFilters, writeFilters } from "./filters.js";
import { prepare } from "./ranking.js";
import { GRADES, keyOf, MAX_GPA, parseRef, readGpa, refOf, sameRef, subjectOf } from "./references.js";
import { conditionsPhrase, durationText, schemeName, viaScheme } from "./text.js";

const ENGINE = ((window.BEUWI_CONFIG || {}).engine || "").replace(/\/+$/, "");
const PROGRESS_DELAY_MS = 350;
const REQUEST_TIMEOUT_MS = 10000;  // an engine that accepts but never answers is as good as down: say so, offer a retry

const $ = (id) => document.getElementById(id);
const el = {
  input: $("subject-input"), listbox: $("subject-listbox"), chips: $("chips"), chipsEmpty: $("chips-empty"),
  chipCount: $("chip-count"), clearAll: $("clear-all"), inputError: $("input-error"),
  degreeForm: $("degree-form"), gpaInput: $("gpa-input"), gpaError: $("gpa-error"),
  suggestions: $("suggestions"), suggestionList: $("suggestion-list"), results: $("results"), status: $("status"),
  unavailable: $("unavailable"), retry: $("retry"), intro: $("intro"), printHead: $("print-head"),
  noResults: $("no-results"), matches: $("matches"), summaryLead: $("summary-lead"), jump: $("jump"),
  print: $("print"), filterRow: $("filter-row"), clearFilters: $("clear-filters"), groups: $("eligible-groups"),
  near: $("near"), nearList: $("near-list"), browse: $("browse"), browseLead: $("browse-lead"),
  facultyList: $("faculty-list"), detail: $("programme-detail"), detailBody: $("detail-body"),
  detailClose: $("detail-close"), detailKicker: $("detail-kicker"),
};

const state = {
  subjects: null,      // the autocomplete's subjects, ready for ranking (ranking.js), once loaded
  units: new Map(),    // "sociology (cape)" -> 2: how many units each CAPE subject has
  grades: { ...GRADES },
  chips: [],           // see references.js: {name, level, unit, grade}, {gpa} or {raw}
  filters: {},         // {campus, faculty, mode, degree}: what the results are narrowed to
  result: null,        // the last search answer, unfiltered
  faculties: null,
  detailOpener: null,
};
const cache = new Map(); // url -> parsed JSON; catalogue answers are cacheable and the page is short-lived
let searchSeq = 0;

class EngineDown extends Error {}  // unreachable, silent, 5xx or not JSON: say so and offer a retry
class BadRequest extends Error {
  constructor(status, body) { super(body.error || "bad request"); this.status = status; this.body = body; }
}

async function api(path) {
  const url = ENGINE + path;
  if (cache.has(url)) return cache.get(url);
  if (!ENGINE) throw new EngineDown("no engine configured");
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  let response, body = null;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, signal: abort.signal });
    try { body = await response.json(); } catch { /* not JSON (or cut off): treated by status below */ }
  } catch (error) {
    throw new EngineDown(error.message);
  } finally {
    clearTimeout(timer);
  }
  if (response.status >= 500 || body === null) throw new EngineDown(`HTTP ${response.status}`);
  if (!response.ok) throw new BadRequest(response.status, body);
  cache.set(url, body);
  return body;
}

const subjectsQuery = (chips) => chips.map((c) => "subject=" + encodeURIComponent(refOf(c))).join("&");

// ---------- URL ----------

function readUrl() {
  const params = new URLSearchParams(location.search);
  return { refs: params.getAll("s").filter((s) => s.trim()), filters: readFilters(params), programme: params.get("programme") };
}

/** This page's URL for the current chips and filters, with a programme's detail open or not. */
function urlFor(programme = null) {
  const params = new URLSearchParams();
  state.chips.forEach((chip) => params.append("s", refOf(chip)));
  writeFilters(params, state.filters);
  if (programme) params.set("programme", programme);
  const query = params.toString().replace(/\+/g, "%20");
  return location.pathname + (query ? "?" + query : "");
}

// ---------- associate degree ----------

function addDegree(event) {
  event.preventDefault();
  const gpa = readGpa(el.gpaInput.value);
  el.gpaError.hidden = gpa != null;
  el.gpaInput.setAttribute("aria-invalid", String(gpa == null));
  if (gpa == null) {
    el.gpaError.textContent = `Enter your GPA as a number from 0.0 to ${MAX_GPA}, for example 2.8.`;
    el.gpaInput.focus();
    return;
  }
  el.gpaInput.value = "";
  setChips(withChip(state.chips, { gpa }));
}

// ---------- chips ----------

const refsKey = (chips) => chips.map(refOf).join("\n");

/** Put a reference the engine proposed (a suggestion, a fix) into the chips. */
function putRef(subject, replaces = null) {
  setChips(withChip(state.chips, parseRef(subject), replaces));
  el.input.focus();
}

function setChips(chips) {
  if (refsKey(chips) === refsKey(state.chips)) return;
  state.chips = chips;
  history.pushState({}, "", urlFor());
  renderChips();
  runSearch();
}

function changeChip(index, field, value) {
  setChips(changedChips(state.chips, index, field, value));
}

function removeChip(index) {
  setChips(state.chips.filter((_, i) => i !== index));
  const buttons = el.chips.querySelectorAll(".chip-remove");
  (buttons[Math.min(index, buttons.length - 1)] || el.input).focus();
}

function renderChips() {
  const focused = el.chips.contains(document.activeElement) ? document.activeElement.id : "";
  el.chips.replaceChildren(...chipItems(state.chips, { units: state.units, grades: state.grades, change: changeChip, remove: removeChip }));
  if (focused && $(focused)) $(focused).focus();
  const n = state.chips.length;
  el.chipsEmpty.hidden = n > 0;
  el.clearAll.hidden = n === 0;
  el.chipCount.textContent = n ? `(${n})` : "";
}

// ---------- search ----------

async function runSearch() {
  const seq = ++searchSeq;
  el.inputError.hidden = true;
  state.chips.forEach((c) => { delete c.invalid; });
  if (!state.chips.length) {
    state.result = null;
    renderResults();
    reveal();
    return;
  }
  const progress = setTimeout(() => seq === searchSeq && el.results.setAttribute("aria-busy", "true"), PROGRESS_DELAY_MS);
  try {
    const result = await api(`/api/search?${subjectsQuery(state.chips)}`);
    if (seq !== searchSeq) return;
    state.result = result;
    showUnavailable(false);
    renderResults();
  } catch (error) {
    if (seq !== searchSeq) return;
    if (error instanceof BadRequest) showInputError(error.body);
    else showUnavailable(true);
  } finally {
    clearTimeout(progress);
    if (seq === searchSeq) {
      el.results.setAttribute("aria-busy", "false");
      reveal();
    }
  }
}

/** Show the results a shared search opened with hidden (index.html marks it "restoring"), now they are in place. */
function reveal() {
  document.documentElement.classList.remove("restoring");
}

function showInputError(body) {
  const problems = body.subjects || [];
  state.chips.forEach((c) => { if (problems.some((p) => sameRef(c, p.input))) c.invalid = true; });
  renderChips();
  fill(el.inputError,
    h("p", { class: "inline-error-title", text: problems.length ? "We couldn’t read some subjects:" : body.error }),
    problems.length ? h("ul", {}, problems.map((p) => h("li", {},
      h("span", { text: p.error }),
      p.suggestions && p.suggestions.length ? h("span", { class: "fix-row" },
        p.suggestions.map((s) => h("button", {
          type: "button", class: "button small", "data-testid": "fix-suggestion", "data-subject": s,
          onclick: () => replaceRef(p.input, s),
        }, `Use ${s}`))) : null,
      h("button", { type: "button", class: "link-button", onclick: () => replaceRef(p.input, null) }, `Remove “${p.input}”`)))) : null);
  el.inputError.hidden = false;
  state.result = null;
  renderResults();
  announce(body.error || "Some subjects could not be read.");
}

/** Swap a chip the engine could not read for its fix (keeping the grade the student chose), or drop it. */
function replaceRef(input, replacement) {
  if (!replacement) setChips(state.chips.filter((c) => !sameRef(c, input)));
  else {
    const old = state.chips.find((c) => sameRef(c, input));
    const fixed = parseRef(replacement);
    if (fixed.name && !fixed.grade && old && old.grade) fixed.grade = old.grade;
    setChips(withChip(state.chips, fixed, input));
  }
  el.input.focus();
}

function announce(text) { el.status.textContent = text; }

function showUnavailable(down) {
  el.unavailable.hidden = !down;
  if (down) {
    [el.intro, el.noResults, el.matches, el.browse].forEach((n) => { n.hidden = true; });
    el.suggestions.hidden = true;
    announce("The programme catalogue cannot be reached right now.");
  }
}

function programmeLink(p, className) {
  return h("a", {
    class: className, href: urlFor(p.id), "data-programme-link": p.id,
    onclick: (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
      event.preventDefault();
      openDetail(p.id, event.currentTarget);
    },
  }, p.name);
}

/** How the cards of answer.js link a programme (to its detail here) and add a proposed subject (to the chips). */
const HOOKS = { link: programmeLink, add: putRef };

function renderResults() {
  const result = state.result;
  const hasChips = state.chips.length > 0;
  el.intro.hidden = hasChips;
  el.noResults.hidden = !(result && !result.eligible.length && !result.near_misses.length);
  el.matches.hidden = !(result && (result.eligible.length || result.near_misses.length));
  el.browse.hidden = !state.faculties;
  el.browseLead.textContent = hasChips
    ? "Every programme in the catalogue, whatever your subjects."
    : "Not sure yet? Look through every programme, faculty by faculty.";
  renderSuggestions(result ? result.suggestions : []);
  renderPrintHead();
  if (!result) {
    if (!hasChips) announce("");
    return;
  }
  renderFilters(result);
  const view = applyFilters(result, state.filters);
  renderSummary(view);
  renderGroups(view);
  renderNear(view);
  announce(`${plural(view.eligible.length, "programme")} you qualify for, ${view.near_misses_total} nearly there.`);
}

function renderSummary(view) {
  const nE = view.eligible.length;
  const nN = view.near_misses_total;
  const filtered = active(state.filters).length > 0;
  fill(el.summaryLead,
    nE ? h("strong", { "data-testid": "eligible-count", text: plural(nE, "programme") }) : "No programmes",
    nE ? ` you qualify for, in ${plural(view.faculties.length, "faculty", "faculties")}.`
      : nN ? " yet, but some are close." : " match these filters.",
    filtered ? h("span", { class: "filter-note", "data-testid": "filter-note", text: ` Showing ${filtersText(state.filters)} only.` }) : null);
  el.jump.replaceChildren(h("ul", {},
    view.faculties.map((f) => h("li", {}, h("a", { href: `#${facultyAnchor(f.faculty)}` }, f.faculty, h("span", { class: "badge", text: f.eligible })))),
    nN ? h("li", {}, h("a", { class: "jump-near", href: "#near" }, "Nearly there", h("span", { class: "badge", "data-testid": "near-count", text: nN }))) : null));
}

function renderGroups(view) {
  el.groups.replaceChildren(...facultyGroups(view, HOOKS));
  el.groups.closest("section").hidden = view.eligible.length === 0;
}

function renderNear(view) {
  el.near.hidden = view.near_misses_total === 0;
  el.nearList.replaceChildren(nearList(view, HOOKS));
}

function renderSuggestions(suggestions) {
  el.suggestions.hidden = !suggestions.length;
  el.suggestionList.replaceChildren(...suggestionItems(suggestions, HOOKS));
}

// ---------- filters ----------

function buildFilters() {
  el.filterRow.replaceChildren(...FILTERS.map((f) => h("div", { class: "filter" },
    h("label", { for: `filter-${f.key}`, class: "filter-label", text: f.label }),
    h("select", { id: `filter-${f.key}`, "data-testid": `filter-${f.key}`, onchange: (event) => setFilter(f.key, event.target.value) }))));
}

/** Each filter's choices from the programmes of this answer (eligible and nearly there), the chosen one selected. */
function renderFilters(result) {
  const found = filterChoices([...result.eligible, ...result.near_misses], state.filters);
  FILTERS.forEach((f) => {
    const select = $(`filter-${f.key}`);
    const chosen = (state.filters[f.key] || "").toLowerCase();
    select.replaceChildren(h("option", { value: "", text: "All" }),
      ...found[f.key].map((c) => h("option", { value: c.value, selected: c.value.toLowerCase() === chosen, text: c.label })));
  });
  el.clearFilters.hidden = !active(state.filters).length;
}

function setFilters(filters) {
  state.filters = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));
  history.pushState({}, "", urlFor());
  renderResults();
}

const setFilter = (key, value) => setFilters({ ...state.filters, [key]: value });

// ---------- print ----------

/** What a printout starts with: whose subjects these results are for, and the filters in use. */
function renderPrintHead() {
  fill(el.printHead,
    h("h1", { class: "print-title", text: "Programmes for your subjects" }),  // the page's h1 is in the panel print leaves out
    h("p", {}, h("strong", { text: "Your subjects: " }),
      state.chips.flatMap((c, i) => [i ? "; " : "", ...refNodes(refOf(c), { held: true })])),
    active(state.filters).length ? h("p", {}, h("strong", { text: "Showing only: " }), filtersText(state.filters)) : null);
}

// ---------- browse ----------

async function loadFaculties() {
  try {
    const body = await api("/api/faculties");
    state.faculties = body.faculties;
    renderFaculties();
    el.browse.hidden = !el.unavailable.hidden;
  } catch (error) {
    showUnavailable(true);
  }
}

function renderFaculties() {
  el.facultyList.replaceChildren(...state.faculties.map((f, index) => {
    const panelId = `browse-panel-${index}`;
    const panel = h("div", { class: "browse-panel", id: panelId, hidden: true });
    const button = h("button", {
      type: "button", class: "browse-toggle", "aria-expanded": "false", "aria-controls": panelId,
      onclick: () => toggleFaculty(f.faculty, button, panel),
    },
    h("span", { class: "browse-name" }, f.faculty,
      h("span", { class: "browse-depts", text: plural(f.departments.length, "department") })),
    h("span", { class: "badge", text: plural(f.programmes, "programme") }),
    h("span", { class: "chevron", "aria-hidden": "true" }));
    return h("li", { class: "browse-faculty", "data-testid": "browse-faculty", "data-faculty": f.faculty },
      h("h3", { class: "browse-heading" }, button), panel);
  }));
}

async function toggleFaculty(faculty, button, panel) {
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  panel.hidden = !open;
  if (!open || panel.childElementCount) return;
  try {
    const body = await api(`/api/programmes?faculty=${encodeURIComponent(faculty)}`);
    panel.replaceChildren(h("ul", { class: "browse-programmes" }, body.programmes.map((p) =>
      h("li", { class: "browse-row", "data-testid": "browse-programme", "data-programme-id": p.id },
        h("span", { class: "degree", text: p.degree }),
        h("span", { class: "browse-row-main" },
          programmeLink(p, "browse-link"),
          h("span", { class: "browse-row-meta", text: [p.department, p.campus, modes(p).join(", "), durationText(p.duration)].filter(Boolean).join(" · ") }))))));
  } catch (error) {
    button.setAttribute("aria-expanded", "false");
    panel.hidden = true;
    showUnavailable(true);
  }
}

// ---------- programme detail ----------

function openDetail(id, opener) {
  state.detailOpener = opener || document.activeElement;
  history.pushState({ detail: true }, "", urlFor(id));
  showDetail(id);
}

/** The programme, its schemes judged against the student's subjects (those the engine could read). */
async function fetchDetail(id) {
  const path = `/api/programmes/${encodeURIComponent(id)}`;
  const query = subjectsQuery(state.chips.filter((c) => !c.invalid));
  if (!query) return api(path);
  try {
    return await api(`${path}?${query}`);
  } catch (error) {
    if (error instanceof BadRequest && error.status === 400) return api(path);  // a subject it cannot read: unjudged
    throw error;
  }
}

async function showDetail(id) {
  el.detailKicker.replaceChildren();
  el.detailBody.replaceChildren(h("h2", { id: "detail-title", class: "detail-title", text: "Loading programme…" }));
  if (!el.detail.open) el.detail.showModal();
  el.detail.scrollTop = 0;
  try {
    const p = await fetchDetail(id);
    if (new URLSearchParams(location.search).get("programme") !== id) return;
    renderDetail(p);
  } catch (error) {
    const message = error instanceof BadRequest
      ? "This programme is not in the current catalogue. It may have been withdrawn or renamed."
      : "We can’t reach the programme catalogue right now. Please try again in a moment.";
    el.detailBody.replaceChildren(
      h("h2", { id: "detail-title", class: "detail-title", text: "Programme not available" }),
      h("p", { class: "detail-error", "data-testid": "detail-error", text: message }));
  }
  el.detailClose.focus();
}

/** How the student stands, from the schemes the engine judged: met (by the route with the fewest conditions), or how
 *  many requirements the closest route still lacks. */
function standing(schemes) {
  if (!state.chips.length || !schemes.length) return null;
  const met = schemes.filter((s) => s.met).sort((a, b) => a.conditions.length - b.conditions.length)[0];
  if (met) {
    return h("div", { class: "standing standing-yes", "data-testid": "standing" },
      h("p", { class: "standing-title" }, "You qualify with your subjects",
        met.label && schemes.length > 1 ? ` ${viaScheme(met.label)}` : "",
        met.conditions.length ? `, subject to ${conditionsPhrase(met.conditions)}` : ""));
  }
  const gaps = Math.min(...schemes.map((s) => s.checks.filter((c) => !c.met).length));
  return h("div", { class: `standing ${gaps === 1 ? "standing-near" : "standing-no"}`, "data-testid": "standing" },
    h("p", { class: "standing-title", text: gaps === 1 ? "You are one requirement away" : `You are ${gaps} requirements away` }));
}

/** One scheme: a heading saying whether the student meets it, and a tick or cross per requirement. */
function schemeBlock(scheme, index) {
  const judged = state.chips.length > 0;
  const id = `detail-scheme-${index}`;
  return h("section", {
    class: "scheme" + (judged ? (scheme.met ? " scheme-met" : " scheme-unmet") : ""), "aria-labelledby": id,
    "data-testid": "scheme", "data-scheme": scheme.label || "", "data-met": String(scheme.met),
  },
  h("h4", { id, class: "scheme-title" }, scheme.label ? schemeName(scheme.label) : "Requirements",
    judged ? (scheme.met ? " — you meet this" : " — not yet") : ""),
  scheme.checks.length ? checkList(scheme.checks, judged ? "checklist" : "requirements", { said: judged, judged })
    : h("p", { class: "muted", text: "No subject requirements are listed." }),
  scheme.conditions.length ? h("p", { class: "scheme-conditions", "data-testid": "scheme-conditions",
    text: `Subject to ${conditionsPhrase(scheme.conditions)}, which the faculty checks.` }) : null);
}

function renderDetail(p) {
  const { schemes } = p;
  const duration = durationText(p.duration);
  el.detailKicker.replaceChildren(h("span", { class: "degree", text: p.degree }), p.faculty);
  fill(el.detailBody,
    h("h2", { id: "detail-title", class: "detail-title", text: p.name }),
    h("dl", { class: "facts" },
      fact("Department", p.department), fact("Campus", p.campus),
      fact("Study modes", modes(p).join(", ")), duration ? fact("Duration", duration) : null),
    p.description ? h("p", { class: "detail-description", text: p.description }) : null,
    standing(schemes),
    h("section", { class: "detail-section", "aria-labelledby": "detail-req" },
      h("h3", { id: "detail-req", text: "Entry requirements" }),
      schemes.length > 1 ? h("p", { class: "muted section-lead", text: "Any one of these routes is enough." }) : null,
      h("div", { class: "schemes", "data-testid": "requirements" }, schemes.map(schemeBlock))),
    p.careers && p.careers.length ? h("section", { class: "detail-section", "aria-labelledby": "detail-careers" },
      h("h3", { id: "detail-careers", text: "Where it can lead" }),
      h("ul", { class: "careers", "data-testid": "careers" }, p.careers.map((c) => h("li", { text: c })))) : null,
    p.url ? h("p", { class: "detail-actions" },
      h("a", { class: "button primary", href: p.url, target: "_blank", rel: "noopener", "data-testid": "programme-url" },
        "Programme page", h("span", { class: "visually-hidden", text: " (opens in a new tab)" }), h("span", { "aria-hidden": "true", text: " ↗" }))) : null);
}

function fact(term, value) {
  return h("div", { class: "fact" }, h("dt", { text: term }), h("dd", { text: value || "—" }));
}

function closeDetail() {
  if (history.state && history.state.detail) history.back();
  else {
    history.replaceState({}, "", urlFor());
    hideDetail();
  }
}

function hideDetail() {
  if (el.detail.open) el.detail.close();
  const opener = state.detailOpener;
  state.detailOpener = null;
  if (opener && opener.isConnected) opener.focus();
}

// ---------- start, routing, retry ----------

function restoreFromUrl({ force = false } = {}) {
  const { refs, filters, programme } = readUrl();
  const chips = refs.map(parseRef).reduce((kept, c) => (kept.some((k) => keyOf(k) === keyOf(c)) ? kept : [...kept, c]), []);
  const filtersChanged = JSON.stringify(filters) !== JSON.stringify(state.filters);
  state.filters = filters;
  // Opening or closing a programme leaves the search as it was (and the "Show all" lists open).
  if (force || refsKey(chips) !== refsKey(state.chips)) {
    state.chips = chips;
    renderChips();
    runSearch();
  } else if (filtersChanged) renderResults();
  if (programme) showDetail(programme);
  else hideDetail();
}

/** What the subject list tells the chips: which CAPE subjects have two units, and each level's grades. */
function learnSubjects(body) {
  state.subjects = prepare(body.subjects);
  state.units = unitsOf(body);
  state.grades = gradesOf(body);
  renderChips();
}

async function start() {
  showUnavailable(false);
  restoreFromUrl({ force: true });  // the chips, search and detail need no subject list, so they load alongside it
  if (!state.faculties) loadFaculties();
  try {
    learnSubjects(await api("/api/subjects"));
  } catch (error) {
    showUnavailable(true);
    return;
  }
  el.input.disabled = false;
}

buildFilters();
subjectCombobox({
  input: el.input, listbox: el.listbox, subjects: () => state.subjects, chosen: () => new Set(state.chips.map(subjectOf)),
  choose: (subject) => setChips(withChip(state.chips, { name: subject.name, level: subject.level, unit: null, grade: "" })),
});
el.degreeForm.addEventListener("submit", addDegree);
el.clearAll.addEventListener("click", () => { setChips([]); el.input.focus(); });
el.clearFilters.addEventListener("click", () => { setFilters({}); $(`filter-${FILTERS[0].key}`).focus(); });
el.print.addEventListener("click", () => window.print());
el.retry.addEventListener("click", () => { cache.clear(); start(); });
el.detailClose.addEventListener("click", closeDetail);
el.detail.addEventListener("cancel", (event) => { event.preventDefault(); closeDetail(); });
el.detail.addEventListener("click", (event) => { if (event.target === el.detail) closeDetail(); });
window.addEventListener("popstate", () => restoreFromUrl());

start();

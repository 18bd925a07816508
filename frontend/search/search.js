// Programme Search: subjects in, programmes out. The URL is the state (?s=Name (LEVEL[:GRADE])&programme=ID),
// so a search can be shared and the back button walks through it.

import { h, plural } from "../shared/dom.js";

const ENGINE = ((window.BEUWI_CONFIG || {}).engine || "").replace(/\/+$/, "");
const GRADES = { CSEC: ["I", "II", "III", "IV", "V", "VI"], CAPE: ["I", "II", "III", "IV", "V", "VI", "VII"] };
const MAX_OPTIONS = 50;
const PROGRESS_DELAY_MS = 350;
const REQUEST_TIMEOUT_MS = 10000;  // an engine that accepts but never answers is as good as down: say so, offer a retry
const SHOWN_PER_FACULTY = 4;  // longer groups fold behind a "Show all" button, so a phone is not one endless scroll
const SHOWN_NEAR = 6;

const $ = (id) => document.getElementById(id);
const el = {
  input: $("subject-input"), listbox: $("subject-listbox"), chips: $("chips"), chipsEmpty: $("chips-empty"),
  chipCount: $("chip-count"), clearAll: $("clear-all"), inputError: $("input-error"),
  suggestions: $("suggestions"), suggestionList: $("suggestion-list"), results: $("results"), status: $("status"),
  unavailable: $("unavailable"), retry: $("retry"), intro: $("intro"),
  noResults: $("no-results"), matches: $("matches"), summary: $("summary"), groups: $("eligible-groups"),
  near: $("near"), nearList: $("near-list"), browse: $("browse"), browseLead: $("browse-lead"),
  facultyList: $("faculty-list"), detail: $("programme-detail"), detailBody: $("detail-body"),
  detailClose: $("detail-close"), detailKicker: $("detail-kicker"),
};

const state = {
  subjects: null,      // [{name, level, label, aliases, haystack}] once loaded
  chips: [],           // [{name, level, grade}] or [{raw}] for text the page cannot read
  result: null,        // the last search answer
  options: [],         // subjects shown in the listbox
  active: -1,          // index of the highlighted option
  faculties: null,
  detailOpener: null,
};
const cache = new Map(); // url -> parsed JSON; catalogue answers are cacheable and the page is short-lived
let searchSeq = 0;

class EngineDown extends Error {}  // unreachable, silent, 5xx or not JSON: say so and offer a retry
class BadRequest extends Error {
  constructor(body) { super(body.error || "bad request"); this.body = body; }
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
  if (!response.ok) throw new BadRequest(body);
  cache.set(url, body);
  return body;
}

// ---------- subject references ----------

function parseRef(text) {
  const match = /^\s*(.+?)\s*\(\s*(CSEC|CAPE)\s*(?::\s*([IVX]+|\d)\s*)?\)\s*$/i.exec(text);
  if (!match) return { raw: text.trim() };
  const level = match[2].toUpperCase();
  let grade = (match[3] || "").toUpperCase();
  if (/^\d$/.test(grade)) grade = GRADES.CAPE[Number(grade) - 1] || grade;
  return { name: match[1], level, grade };
}

const refOf = (chip) => chip.raw ?? `${chip.name} (${chip.level}${chip.grade ? ":" + chip.grade : ""})`;
const labelOf = (chip) => chip.raw ?? `${chip.name} (${chip.level})`;
const keyOf = (chip) => labelOf(chip).toLowerCase();

/** "Chemistry (CAPE:III)" reads as "Chemistry (CAPE) grade III or better". */
function readable(text) {
  return text.replace(/\((CSEC|CAPE):([IVX]+)\)/g, "($1) grade $2 or better");
}

// ---------- URL ----------

function readUrl() {
  const params = new URLSearchParams(location.search);
  return { refs: params.getAll("s").filter((s) => s.trim()), programme: params.get("programme") };
}

function urlFor(chips, programme) {
  const params = new URLSearchParams();
  chips.forEach((chip) => params.append("s", refOf(chip)));
  if (programme) params.set("programme", programme);
  const query = params.toString().replace(/\+/g, "%20");
  return location.pathname + (query ? "?" + query : "");
}

// ---------- autocomplete (ARIA 1.2 combobox with a listbox popup) ----------

function filterSubjects(query) {
  const chosen = new Set(state.chips.map(keyOf));
  const words = query.toLowerCase().split(/[\s()]+/).filter(Boolean);
  const free = state.subjects.filter((s) => !chosen.has(s.label.toLowerCase()));
  if (!words.length) return free;
  const first = words[0];
  return free
    .filter((s) => words.every((w) => s.haystack.includes(w)))
    .map((s) => ({ s, rank: rankOf(s, first) }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ s }) => s);
}

/** Names starting with what was typed first, then a word of the name or an alias starting with it, then the rest. */
function rankOf(subject, word) {
  const name = subject.name.toLowerCase();
  if (name.startsWith(word)) return 0;
  if (name.split(/\s+/).some((w) => w.startsWith(word))) return 1;
  if (subject.aliases.some((a) => a.toLowerCase().split(/\s+/).some((w) => w.startsWith(word)))) return 2;
  return 3;
}

function aliasHint(subject, query) {
  const q = query.trim().toLowerCase();
  if (!q || subject.label.toLowerCase().includes(q.split(/\s+/)[0])) return null;
  return subject.aliases.find((a) => a.toLowerCase().includes(q.split(/\s+/)[0])) || null;
}

function openList(query) {
  if (!state.subjects) return;
  state.options = filterSubjects(query).slice(0, MAX_OPTIONS);
  state.active = -1;
  el.listbox.replaceChildren();
  if (!state.options.length) {
    el.listbox.append(h("li", { class: "option-empty", role: "presentation", text: `No subject matches “${query.trim()}”` }));
  }
  state.options.forEach((subject, index) => {
    const alias = aliasHint(subject, query);
    el.listbox.append(h("li", {
      id: `subject-option-${index}`, role: "option", class: "option", "aria-selected": "false",
      "data-subject": subject.label,
      onmousedown: (event) => event.preventDefault(),
      onclick: () => choose(index),
    },
    h("span", { class: "option-name", text: subject.name }),
    h("span", { class: `level level-${subject.level.toLowerCase()}`, text: subject.level }),
    alias ? h("span", { class: "option-alias", text: `also “${alias}”` }) : null));
  });
  el.listbox.hidden = false;
  el.input.setAttribute("aria-expanded", "true");
  el.input.removeAttribute("aria-activedescendant");
}

function closeList() {
  el.listbox.hidden = true;
  el.input.setAttribute("aria-expanded", "false");
  el.input.removeAttribute("aria-activedescendant");
  state.active = -1;
}

function highlight(index) {
  const items = el.listbox.querySelectorAll("[role=option]");
  if (!items.length) return;
  state.active = (index + items.length) % items.length;
  items.forEach((item, i) => item.setAttribute("aria-selected", String(i === state.active)));
  const current = items[state.active];
  el.input.setAttribute("aria-activedescendant", current.id);
  current.scrollIntoView({ block: "nearest" });
}

function choose(index) {
  const subject = state.options[index];
  if (!subject) return;
  el.input.value = "";
  closeList();
  addChip({ name: subject.name, level: subject.level, grade: "" });
  el.input.focus();
}

function onInputKey(event) {
  const open = el.input.getAttribute("aria-expanded") === "true";
  switch (event.key) {
    case "ArrowDown":
      event.preventDefault();
      if (!open) { openList(el.input.value); highlight(0); } else highlight(state.active + 1);
      break;
    case "ArrowUp":
      event.preventDefault();
      if (!open) { openList(el.input.value); highlight(-1); } else highlight(state.active - 1);
      break;
    case "Enter":
      if (open && state.options.length) {
        event.preventDefault();
        choose(state.active >= 0 ? state.active : 0);
      }
      break;
    case "Escape":
      if (open) { event.preventDefault(); closeList(); } else el.input.value = "";
      break;
    case "Home": case "End":
      if (open && state.active >= 0) {
        event.preventDefault();
        highlight(event.key === "Home" ? 0 : state.options.length - 1);
      }
      break;
    default:
  }
}

// ---------- chips ----------

function addChip(chip) {
  if (state.chips.some((c) => keyOf(c) === keyOf(chip))) return;
  setChips([...state.chips, chip]);
}

function setChips(chips) {
  state.chips = chips;
  history.pushState({}, "", urlFor(chips, null));
  renderChips();
  runSearch();
}

function removeChip(index) {
  const chips = state.chips.filter((_, i) => i !== index);
  setChips(chips);
  const buttons = el.chips.querySelectorAll(".chip-remove");
  (buttons[Math.min(index, buttons.length - 1)] || el.input).focus();
}

function renderChips() {
  el.chips.replaceChildren(...state.chips.map((chip, index) => {
    const label = labelOf(chip);
    const gradeId = `grade-${index}`;
    return h("li", { class: "chip" + (chip.invalid ? " chip-invalid" : ""), "data-testid": "chip", "data-subject": label },
      h("span", { class: "chip-name" }, chip.raw ?? chip.name,
        chip.level ? h("span", { class: `level level-${chip.level.toLowerCase()}`, text: chip.level }) : null),
      chip.level ? h("span", { class: "chip-grade" },
        h("label", { for: gradeId, class: "visually-hidden", text: `Grade for ${label}` }),
        h("select", {
          id: gradeId, "data-testid": "chip-grade",
          onchange: (event) => setChips(state.chips.map((c, i) => (i === index ? { ...c, grade: event.target.value } : c))),
        },
        h("option", { value: "", text: "Any pass" }),
        GRADES[chip.level].map((g) => h("option", { value: g, selected: chip.grade === g, text: `Grade ${g}` })))) : null,
      h("button", {
        type: "button", class: "chip-remove", "aria-label": `Remove ${label}`, title: `Remove ${label}`,
        onclick: () => removeChip(index),
      }, h("span", { "aria-hidden": "true", text: "×" })));
  }));
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
  const query = state.chips.map((c) => "subject=" + encodeURIComponent(refOf(c))).join("&");
  const progress = setTimeout(() => seq === searchSeq && el.results.setAttribute("aria-busy", "true"), PROGRESS_DELAY_MS);
  try {
    const result = await api(`/api/search?${query}`);
    if (seq !== searchSeq) return;
    state.result = result;
    showUnavailable(false);
    renderResults();
    refreshStanding();
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
  const bad = new Set(problems.map((p) => p.input.toLowerCase()));
  state.chips.forEach((c) => { if (bad.has(refOf(c).toLowerCase())) c.invalid = true; });
  renderChips();
  el.inputError.replaceChildren(
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

function replaceRef(input, replacement) {
  const chips = [];
  for (const chip of state.chips) {
    if (refOf(chip).toLowerCase() !== input.toLowerCase()) chips.push(chip);
    else if (replacement) {
      const fixed = parseRef(replacement);
      if (!fixed.raw && chip.grade) fixed.grade = chip.grade;
      if (!chips.some((c) => keyOf(c) === keyOf(fixed))) chips.push(fixed);
    }
  }
  setChips(chips);
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

function modes(p) {
  return [p.full_time && "Full-time", p.part_time && "Part-time", p.evening && "Evening"].filter(Boolean);
}

function programmeLink(p, className) {
  return h("a", {
    class: className, href: urlFor(state.chips, p.id), "data-programme-link": p.id,
    onclick: (event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
      event.preventDefault();
      openDetail(p.id, event.currentTarget);
    },
  }, p.name);
}

function cardHead(p, heading) {
  return [
    h("div", { class: "card-top" },
      h("span", { class: "degree", text: p.degree }),
      h("span", { class: "campus", text: p.campus })),
    h(heading, { class: "card-title" }, programmeLink(p, "card-link")),
    h("p", { class: "card-meta" }, p.department, p.duration ? h("span", { class: "dot", text: p.duration }) : null),
    h("ul", { class: "modes", "aria-label": "Study modes" }, modes(p).map((m) => h("li", { class: "mode", text: m }))),
  ];
}

function programmeCard(p) {
  return h("li", { class: "card", "data-testid": "programme-card", "data-programme-id": p.id },
    cardHead(p, "h4"),
    h("details", { class: "why" },
      h("summary", {}, "Why you qualify"),
      h("ul", { class: "ticks" }, p.reasons.map((r) => h("li", { text: readable(r) })))));
}

function nearCard(p) {
  return h("li", { class: "card card-near", "data-testid": "near-miss", "data-programme-id": p.id },
    cardHead(p, "h3"),
    h("div", { class: "missing" },
      h("p", { class: "missing-title", text: "What’s missing" }),
      h("ul", { class: "missing-list" }, p.missing.map((m) => h("li", { "data-testid": "missing", text: describeMissing(m) })))));
}

/** "missing Physics (CAPE)" and "needs 1 more of: A, B" made into plain sentences. */
function describeMissing(text) {
  const t = readable(text).replace(/^missing\s+/i, "");
  const more = /^needs (\d+) more of:\s*(.*)$/i.exec(t);
  if (more) return `${more[1]} more of: ${more[2]}`;
  return t.charAt(0).toUpperCase() + t.slice(1);
}

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
  if (!result) {
    if (!hasChips) announce("");
    return;
  }

  const byFaculty = new Map();
  result.eligible.forEach((p) => {
    if (!byFaculty.has(p.faculty)) byFaculty.set(p.faculty, []);
    byFaculty.get(p.faculty).push(p);
  });
  const nE = result.eligible.length;
  const nN = result.near_misses_total ?? result.near_misses.length;
  const nearShown = result.near_misses.length;

  el.summary.replaceChildren(
    h("p", { class: "summary-lead" },
      nE ? h("strong", { "data-testid": "eligible-count", text: plural(nE, "programme") }) : "No programmes yet",
      nE ? ` you qualify for, in ${plural(result.faculties.length, "faculty", "faculties")}.` : ", but some are close."),
    h("nav", { class: "jump", "aria-label": "Jump to a faculty" },
      h("ul", {},
        result.faculties.map((f) => h("li", {}, h("a", { href: `#${facultyAnchor(f.faculty)}` }, f.faculty, h("span", { class: "badge", text: f.eligible })))),
        nN ? h("li", {}, h("a", { class: "jump-near", href: "#near" }, "Nearly there", h("span", { class: "badge", text: nN }))) : null)));

  el.groups.replaceChildren(...result.faculties.map((f) => {
    const programmes = byFaculty.get(f.faculty) || [];
    return h("section", { class: "group", id: facultyAnchor(f.faculty), "data-testid": "faculty-group", "data-faculty": f.faculty, "aria-labelledby": facultyAnchor(f.faculty) + "-h" },
      h("h3", { class: "group-title", id: facultyAnchor(f.faculty) + "-h" },
        h("span", { text: f.faculty }),
        h("span", { class: "badge", "data-testid": "faculty-count", text: f.eligible }),
        h("span", { class: "visually-hidden", text: f.eligible === 1 ? " programme" : " programmes" })),
      foldedCards(programmes.map(programmeCard), SHOWN_PER_FACULTY, `Show all ${f.eligible} in ${f.faculty}`));
  }));
  el.groups.closest("section").hidden = nE === 0;

  el.near.hidden = nN === 0;
  el.nearList.replaceChildren(foldedCards(result.near_misses.map(nearCard), SHOWN_NEAR,
    nearShown < nN ? `Show ${nearShown} of ${nN} nearly there` : `Show all ${nN} nearly there`));
  announce(`${plural(nE, "programme")} you qualify for, ${nN} nearly there.`);
}

/** A card list showing its first `shown` cards, with a button revealing the rest (kept in the DOM, just hidden). */
function foldedCards(cards, shown, moreLabel) {
  const list = h("ul", { class: "cards" }, cards);
  const extra = cards.slice(shown);
  if (!extra.length) return list;
  extra.forEach((card) => { card.hidden = true; });
  const more = h("button", {
    type: "button", class: "button show-more", "data-testid": "show-more",
    onclick: () => {
      extra.forEach((card) => { card.hidden = false; });
      more.remove();
      extra[0].querySelector("a").focus();
    },
  }, moreLabel);
  return h("div", { class: "folded" }, list, more);
}

const facultyAnchor = (name) => "faculty-" + name.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function renderSuggestions(suggestions) {
  el.suggestions.hidden = !suggestions.length;
  el.suggestionList.replaceChildren(...suggestions.map((s) => {
    const ref = parseRef(s.subject);
    return h("li", {}, h("button", {
      type: "button", class: "suggestion", "data-testid": "suggestion", "data-subject": s.subject,
      onclick: () => { addChip(ref.raw ? ref : { ...ref, grade: "" }); el.input.focus(); },
    },
    h("span", { class: "suggestion-plus", "aria-hidden": "true", text: "+" }),
    h("span", { class: "suggestion-text" },
      h("span", {}, "Add ", h("strong", { text: readable(s.subject) })),
      h("span", { class: "suggestion-note", text: `opens ${plural(s.unlocks, "more programme")}` }))));
  }));
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
          h("span", { class: "browse-row-meta", text: `${p.department} · ${p.campus} · ${modes(p).join(", ")}` }))))));
  } catch (error) {
    button.setAttribute("aria-expanded", "false");
    panel.hidden = true;
    showUnavailable(true);
  }
}

// ---------- programme detail ----------

function openDetail(id, opener) {
  state.detailOpener = opener || document.activeElement;
  history.pushState({ detail: true }, "", urlFor(state.chips, id));
  showDetail(id);
}

async function showDetail(id) {
  el.detailKicker.replaceChildren();
  el.detailBody.replaceChildren(h("h2", { id: "detail-title", class: "detail-title", text: "Loading programme…" }));
  if (!el.detail.open) el.detail.showModal();
  el.detail.scrollTop = 0;
  try {
    const p = await api(`/api/programmes/${encodeURIComponent(id)}`);
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

function yourStanding(id) {
  const result = state.result;
  if (!result) return null;
  const eligible = result.eligible.find((p) => p.id === id);
  if (eligible) {
    return h("div", { class: "standing standing-yes", "data-testid": "standing" },
      h("p", { class: "standing-title", text: "You qualify with your subjects" }),
      h("ul", { class: "ticks" }, eligible.reasons.map((r) => h("li", { text: readable(r) }))));
  }
  const near = result.near_misses.find((p) => p.id === id);
  if (near) {
    return h("div", { class: "standing standing-near", "data-testid": "standing" },
      h("p", { class: "standing-title", text: "You are nearly there" }),
      h("ul", { class: "missing-list" }, near.missing.map((m) => h("li", { text: describeMissing(m) }))));
  }
  return h("div", { class: "standing standing-no", "data-testid": "standing" },
    h("p", { class: "standing-title", text: "Your subjects don’t meet these requirements yet" }));
}

/** A shared link opens the detail and runs the search at once; whichever answers last fills in the standing. */
function refreshStanding() {
  const holder = document.getElementById("detail-standing");
  if (holder && el.detail.open) holder.replaceChildren(yourStanding(holder.dataset.programme) || "");
}

function describeCombination(text) {
  const match = /^(\d+)\s+of\s+(.*)$/i.exec(text);
  if (!match) return readable(text);
  const options = match[2].split("|").map((s) => readable(s.trim()));
  const n = Number(match[1]);
  return `${n === 1 ? "One" : n} of: ${options.join(", ")}`;
}

function renderDetail(p) {
  const req = p.requirements || {};
  const rows = [];
  if (req.csec_passes) rows.push(h("li", {}, h("strong", { text: `${req.csec_passes} CSEC passes` }), " in total"));
  if (req.cape_passes) rows.push(h("li", {}, h("strong", { text: `${req.cape_passes} CAPE passes` }), " in total"));
  (req.mandatory || []).forEach((m) => rows.push(h("li", {}, h("strong", { text: readable(m) }), " (required)")));
  (req.combinations || []).forEach((c) => rows.push(h("li", { text: describeCombination(c) })));

  el.detailKicker.replaceChildren(h("span", { class: "degree", text: p.degree }), p.faculty);
  el.detailBody.replaceChildren(
    h("h2", { id: "detail-title", class: "detail-title", text: p.name }),
    h("dl", { class: "facts" },
      fact("Department", p.department), fact("Campus", p.campus),
      fact("Study modes", modes(p).join(", ")), p.duration ? fact("Duration", p.duration) : null),
    p.description ? h("p", { class: "detail-description", text: p.description }) : null,
    h("div", { id: "detail-standing", "data-programme": p.id }, yourStanding(p.id)),
    h("section", { class: "detail-section", "aria-labelledby": "detail-req" },
      h("h3", { id: "detail-req", text: "Entry requirements" }),
      rows.length ? h("ul", { class: "requirements", "data-testid": "requirements" }, rows)
        : h("p", { class: "muted", text: "No subject requirements are listed." })),
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
    history.replaceState({}, "", urlFor(state.chips, null));
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
  const { refs, programme } = readUrl();
  const seen = new Set();
  const chips = refs.map(parseRef).filter((c) => !seen.has(keyOf(c)) && seen.add(keyOf(c)));
  // Opening or closing a programme leaves the search as it was (and the "Show all" lists open).
  if (force || chips.map(refOf).join("\n") !== state.chips.map(refOf).join("\n")) {
    state.chips = chips;
    renderChips();
    runSearch();
  }
  if (programme) showDetail(programme);
  else hideDetail();
}

async function start() {
  showUnavailable(false);
  restoreFromUrl({ force: true });  // the chips, search and detail need no subject list, so they load alongside it
  if (!state.faculties) loadFaculties();
  try {
    const body = await api("/api/subjects");
    state.subjects = body.subjects.map((s) => ({
      ...s, haystack: [s.label, ...s.aliases].join(" ").toLowerCase(),
    }));
  } catch (error) {
    showUnavailable(true);
    return;
  }
  el.input.disabled = false;
}

el.input.addEventListener("input", () => openList(el.input.value));
el.input.addEventListener("keydown", onInputKey);
el.input.addEventListener("blur", () => closeList());
el.input.addEventListener("click", () => { if (el.listbox.hidden && el.input.value) openList(el.input.value); });
el.clearAll.addEventListener("click", () => { setChips([]); el.input.focus(); });
el.retry.addEventListener("click", () => { cache.clear(); start(); });
el.detailClose.addEventListener("click", closeDetail);
el.detail.addEventListener("cancel", (event) => { event.preventDefault(); closeDetail(); });
el.detail.addEventListener("click", (event) => { if (event.target === el.detail) closeDetail(); });
window.addEventListener("popstate", () => restoreFromUrl());

start();

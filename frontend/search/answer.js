// One search answer as cards: the programmes a student qualifies for (by faculty), those nearly met with what is
// missing, and the subjects that would open more. The student page puts these in its own layout; the admin
// dashboard's "Try as a student" preview renders a whole answer with renderAnswer. Each page says, through `hooks`,
// what a programme's name links to (`link(p, className)`) and what proposing a subject does (`add(subject, replaces)`).

import { fill, h, plural } from "../shared/dom.js";
import { checkNodes, fixesFor, refNodes } from "./checks.js";
import { applyFilters, modesOf } from "./filters.js";
import { labelOf, parseRef } from "./references.js";
import { conditionsPhrase, durationText, schemeName, viaScheme } from "./text.js";

const SHOWN_PER_FACULTY = 4;  // longer groups fold behind a "Show all" button, so a phone is not one endless scroll
const SHOWN_NEAR = 6;

export const modes = (p) => modesOf(p).map((m) => m.label);

export const facultyAnchor = (name) => "faculty-" + name.toLowerCase().replace(/[^a-z0-9]+/g, "-");

function cardHead(p, heading, hooks) {
  const duration = durationText(p.duration);
  return [
    h("div", { class: "card-top" },
      h("span", { class: "degree", text: p.degree }),
      h("span", { class: "campus", text: p.campus })),
    h(heading, { class: "card-title" }, hooks.link(p, "card-link")),
    h("p", { class: "card-meta" }, p.department, duration ? h("span", { class: "dot", "data-testid": "duration", text: duration }) : null),
    h("ul", { class: "modes", "aria-label": "Study modes" }, modes(p).map((m) => h("li", { class: "mode", text: m }))),
  ];
}

/** One line per Check, marked met or not from its `met` field; `said` adds the words a screen reader needs, and an
 *  unjudged list (no subjects given) only says what each requirement asks. */
export function checkList(checks, className, { said = false, judged = true } = {}) {
  return h("ul", { class: className }, checks.map((check) => h("li", {
    class: check.met ? "met" : "unmet", "data-testid": "check", "data-kind": check.kind, "data-met": String(check.met),
  }, said ? h("span", { class: "visually-hidden", text: check.met ? "Met: " : "Not met: " }) : null,
  checkNodes(check, { judged }))));
}

/** Which route and which conditions: "via Scheme B", "Eligible, subject to interview and portfolio" for a programme
 *  the student meets; "Closest: Scheme A", "Also subject to interview" for one nearly met. */
function routeNote(p, { near = false } = {}) {
  const { conditions } = p;
  if (!p.scheme && !conditions.length) return null;
  const route = p.scheme && (near ? `Closest: ${schemeName(p.scheme)}` : viaScheme(p.scheme));
  const subjectTo = conditions.length && `${near ? "Also subject" : "Eligible, subject"} to ${conditionsPhrase(conditions)}`;
  return h("p", { class: "route" },
    route ? h("span", { class: "route-scheme", "data-testid": "route", text: route }) : null,
    subjectTo ? h("span", { class: "route-conditions", "data-testid": "conditions", text: subjectTo }) : null);
}

function programmeCard(p, hooks) {
  return h("li", { class: "card", "data-testid": "programme-card", "data-programme-id": p.id },
    cardHead(p, "h4", hooks),
    routeNote(p),
    h("details", { class: "why" },
      h("summary", {}, "Why you qualify"),
      checkList(p.checks, "ticks")));
}

/** The buttons that add what a failed Check asks for. */
function fixButtons(check, hooks) {
  const fixes = fixesFor(check);
  if (!fixes.length) return null;
  return h("span", { class: "fix-row" }, fixes.map((fix) => h("button", {
    type: "button", class: "button small fix", "data-testid": "fix", "data-subject": fix.subject,
    onclick: () => hooks.add(fix.subject, fix.replaces),
  }, fix.replaces ? "Change to " : "Add ", refNodes(fix.subject, { held: true }))));
}

function nearCard(p, hooks) {
  return h("li", { class: "card card-near", "data-testid": "near-miss", "data-programme-id": p.id },
    cardHead(p, "h3", hooks),
    routeNote(p, { near: true }),
    h("div", { class: "missing" },
      h("p", { class: "missing-title", text: "What’s missing" }),
      h("ul", { class: "missing-list" }, p.missing.map((check) => h("li", { "data-testid": "missing", "data-kind": check.kind },
        h("span", { "data-testid": "missing-text" }, checkNodes(check)), fixButtons(check, hooks))))));
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
      extra[0].querySelector("a, button, summary").focus();
    },
  }, moreLabel);
  return h("div", { class: "folded" }, list, more);
}

/** A section per faculty of the (filtered) answer `view`, each with its eligible programmes. */
export function facultyGroups(view, hooks) {
  return view.faculties.map((f) => {
    const anchor = facultyAnchor(f.faculty);
    const programmes = view.eligible.filter((p) => p.faculty === f.faculty);
    return h("section", { class: "group", id: anchor, "data-testid": "faculty-group", "data-faculty": f.faculty, "aria-labelledby": anchor + "-h" },
      h("h3", { class: "group-title", id: anchor + "-h" },
        h("span", { text: f.faculty }),
        h("span", { class: "badge", "data-testid": "faculty-count", text: f.eligible }),
        h("span", { class: "visually-hidden", text: f.eligible === 1 ? " programme" : " programmes" })),
      foldedCards(programmes.map((p) => programmeCard(p, hooks)), SHOWN_PER_FACULTY, `Show all ${f.eligible} in ${f.faculty}`));
  });
}

/** The programmes of `view` nearly met, each with what is missing. */
export function nearList(view, hooks) {
  const nN = view.near_misses_total;
  const shown = view.near_misses.length;
  return foldedCards(view.near_misses.map((p) => nearCard(p, hooks)), SHOWN_NEAR,
    shown < nN ? `Show ${shown} of ${nN} nearly there` : `Show all ${nN} nearly there`);
}

/** A button per suggested subject (or better grade), with how many programmes it opens. */
export function suggestionItems(suggestions, hooks) {
  return suggestions.map((s) => {
    const ref = parseRef(s.subject);
    const raise = s.kind === "grade";
    return h("li", {}, h("button", {
      type: "button", class: "suggestion", "data-testid": "suggestion", "data-subject": s.subject, "data-kind": s.kind,
      onclick: () => hooks.add(s.subject, s.replaces),
    },
    h("span", { class: "suggestion-plus", "aria-hidden": "true", text: raise ? "↑" : "+" }),
    h("span", { class: "suggestion-text" },
      h("span", {}, raise ? "" : "Add ", h("strong", { text: labelOf(ref) }), ref.grade ? ` at grade ${ref.grade}` : ""),
      h("span", { class: "suggestion-note", text: ` opens ${plural(s.unlocks, "more programme")}` }))));
  });
}

/** A whole answer in `container`, with the student page's headings, cards and classes (and no filters). */
export function renderAnswer(answer, container, hooks) {
  const view = applyFilters(answer, {});
  const nE = view.eligible.length, nN = view.near_misses_total;
  const section = (title, lead, ...body) => h("section", { class: "answer-section" },
    h("h2", { class: "section-title", text: title }), lead ? h("p", { class: "muted section-lead", text: lead }) : null, ...body);
  fill(container,
    h("p", { class: "summary-lead", "data-testid": "answer-summary" },
      nE ? h("strong", { "data-testid": "eligible-count", text: plural(nE, "programme") }) : "No programmes",
      nE ? ` you qualify for, in ${plural(view.faculties.length, "faculty", "faculties")}` : " you qualify for yet",
      nN ? `, ${nN} nearly there.` : "."),
    view.suggestions.length ? section("Open more doors", "One more subject would open these programmes too.",
      h("ul", { class: "suggestion-list" }, suggestionItems(view.suggestions, hooks))) : null,
    nE ? section("Programmes you qualify for", "", facultyGroups(view, hooks)) : null,
    nN ? section("Nearly there", "One step away from these; here is exactly what is missing.", nearList(view, hooks)) : null);
}

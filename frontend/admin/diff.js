// What activating an upload changes for students, from GET /api/uploads/<id>/diff: a sentence built from the counts,
// and the added, removed and changed programmes one click away (each changed field's before and after, per scheme).

import { h, plural } from "../shared/dom.js";
import { schemeName } from "../search/text.js";

// The fields of a programme's entry requirements (the rest are its details: name, faculty, campus, ...).
const REQUIREMENT_FIELDS = new Set(["scheme", "csec_passes", "cape_passes", "cape_units", "mandatory", "combination",
  "not_counted", "conditions"]);
const FIELD_NAMES = {
  scheme: "Scheme", csec_passes: "CSEC passes", cape_passes: "CAPE passes", cape_units: "CAPE units",
  mandatory: "Required subject", combination: "Combination", not_counted: "Not counted", conditions: "Condition",
  full_time: "Full-time", part_time: "Part-time", url: "URL",
};

const fieldName = (field) => FIELD_NAMES[field] || field.charAt(0).toUpperCase() + field.slice(1).replace(/_/g, " ");

/** How many programmes each kind of change touches: added, removed, requirements changed, only details changed. */
export function diffCounts(diff) {
  const requirements = diff.changed.filter((c) => c.fields.some((f) => REQUIREMENT_FIELDS.has(f.field))).length;
  return { added: diff.added.length, removed: diff.removed.length, requirements,
           details: diff.changed.length - requirements, unchanged: diff.unchanged };
}

/** "a", "a and b", "a, b and c". */
const listPhrase = (items) => (items.length < 2 ? items.join("")
  : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`);

/** "Activating this upload will add 23 programmes, remove 4 and change the requirements of 12." */
export function diffSentence(diff) {
  const n = diffCounts(diff);
  const parts = [];
  const count = (k) => (parts.length ? k.toLocaleString() : plural(k, "programme"));
  if (n.added) parts.push(`add ${count(n.added)}`);
  if (n.removed) parts.push(`remove ${count(n.removed)}`);
  if (n.requirements) parts.push(`change the requirements of ${count(n.requirements)}`);
  if (n.details) parts.push(`change only the details of ${count(n.details)}`);
  if (!parts.length) return `Activating this upload changes nothing students see: its ${plural(n.unchanged, "programme")} are as they are now.`;
  const kept = n.unchanged ? ` ${plural(n.unchanged, "programme")} stay as they are.` : "";
  return `Activating this upload will ${listPhrase(parts)}.${kept}`;
}

const value = (v) => (v == null ? "" : typeof v === "boolean" ? (v ? "yes" : "no") : String(v));

/** One changed field: "Scheme A · Required subject: Mathematics (CSEC:III) → Mathematics (CSEC:II)". */
function fieldChange(f) {
  const where = f.scheme ? `${schemeName(f.scheme)} · ` : "";
  const before = value(f.before), after = value(f.after);
  const change = f.before == null ? [h("span", { class: "diff-tag diff-tag-add", text: "added" }), " ", h("span", { class: "diff-after", dataset: { testid: "diff-after" } }, after)]
    : f.after == null ? [h("span", { class: "diff-tag diff-tag-remove", text: "removed" }), " ", h("del", { class: "diff-before", dataset: { testid: "diff-before" } }, before)]
      : [h("del", { class: "diff-before", dataset: { testid: "diff-before" } }, before || "(empty)"),
         h("span", { "aria-hidden": "true", text: " → " }), h("span", { class: "visually-hidden", text: " becomes " }),
         h("ins", { class: "diff-after", dataset: { testid: "diff-after" } }, after || "(empty)")];
  return h("li", { class: "diff-field", dataset: { testid: "diff-field", field: f.field, scheme: f.scheme ?? "" } },
    h("span", { class: "diff-field-name" }, `${where}${fieldName(f.field)}: `), ...change);
}

const summaryLine = (p) => h("li", { dataset: { testid: "diff-programme", programmeId: p.id } },
  h("span", { class: "diff-name" }, p.name), " ", h("span", { class: "muted small-text" }, [p.faculty, p.id].filter(Boolean).join(" · ")));

function changedEntry(c) {
  return h("li", { class: "diff-changed", dataset: { testid: "diff-programme", programmeId: c.id } },
    h("p", {}, h("span", { class: "diff-name" }, c.name), " ", h("span", { class: "muted small-text" }, c.id)),
    h("ul", { class: "diff-fields" }, c.fields.map(fieldChange)));
}

function listBlock(testid, title, items, render) {
  if (!items.length) return null;
  return h("details", { class: "diff-list", dataset: { testid } },
    h("summary", {}, `${title} (${items.length.toLocaleString()})`),
    h("ul", { class: "diff-items" }, items.map(render)));
}

/** The sentence, then each list behind its own disclosure. */
export function diffNodes(diff) {
  return [
    h("p", { class: "diff-summary", dataset: { testid: "diff-summary" } }, diffSentence(diff)),
    listBlock("diff-added", "Added", diff.added, summaryLine),
    listBlock("diff-removed", "Removed", diff.removed, summaryLine),
    listBlock("diff-changed", "Changed", diff.changed, changedEntry),
  ];
}

/** Against what: the active upload, or nothing yet. */
export const againstText = (diff) => (diff.against
  ? `Compared with the active upload ${diff.against}.` : "Nothing is active yet: every programme is new to students.");

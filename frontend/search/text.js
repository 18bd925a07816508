// Catalogue values as a person reads them.

/** A duration as the catalogue gives it: "2" reads "2 years", "4 years" and "3-4 years" stay, "?" and "" say nothing. */
export function durationText(duration) {
  const text = String(duration ?? "").trim();
  if (!text || text === "?") return "";
  if (!/^\d+(\.\d+)?$/.test(text)) return text;
  return `${text} ${Number(text) === 1 ? "year" : "years"}`;
}

/** "a", "a and b", "a, b and c". */
function listPhrase(items) {
  if (items.length < 2) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** ["Interview", "Portfolio"] reads "interview and portfolio", as in "Eligible, subject to interview and portfolio". */
export const conditionsPhrase = (conditions) =>
  listPhrase(conditions.map((c) => c.charAt(0).toLowerCase() + c.slice(1)));

const SHORT_LABEL = /^[A-Z0-9]{1,2}$/;  // "A", "B2": a scheme letter, as in "Scheme A"

/** A scheme as a heading: "Scheme A" for a letter, "Associate Degree route" for a named one. */
export const schemeName = (label) => (SHORT_LABEL.test(label) ? `Scheme ${label}` : `${label} route`);

/** "via Scheme B", "via the Associate Degree route". */
export const viaScheme = (label) => (SHORT_LABEL.test(label) ? "via " : "via the ") + schemeName(label);

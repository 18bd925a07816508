// Subject references in the engine's one syntax (docs: /work/notes/v2-contract.md), as the page's chips hold them:
// "Chemistry (CSEC:II)", "Sociology (CAPE U1:III)", "Chemistry (GCE A:B)", "Associate Degree (GPA:2.8)".
// This is the reference syntax the URL and the API share, not the engine's sentences (which are never parsed).

export const LEVELS = ["CSEC", "CAPE", "GCE O", "GCE A"];  // the order a student without a level typed meets them
// Grades per level, best first, for an engine that does not send its `levels` yet.
export const GRADES = {
  CSEC: ["I", "II", "III", "IV", "V", "VI"],
  CAPE: ["I", "II", "III", "IV", "V", "VI", "VII"],
  "GCE O": ["A", "B", "C", "D", "E", "U"],
  "GCE A": ["A*", "A", "B", "C", "D", "E", "U"],
};
export const DEGREE = "Associate Degree";
export const MAX_GPA = 4.3;

const SUBJECT_REF = /^\s*(.+?)\s*\(\s*(CSEC|CAPE|GCE\s*[OA])(?:\s*U([12]))?\s*(?::\s*([^)\s]+)\s*)?\)\s*$/i;
const DEGREE_REF = /^\s*associate\s+degree\s*\(\s*GPA\s*:\s*([^)\s]+)\s*\)\s*$/i;

/** A chip from a reference: {name, level, unit, grade}, {gpa} for the associate degree, or {raw} for text the page
 *  cannot read (the engine says what is wrong with it). */
export function parseRef(text) {
  const degree = DEGREE_REF.exec(text);
  if (degree) return { gpa: degree[1] };
  const match = SUBJECT_REF.exec(text);
  if (!match) return { raw: text.trim() };
  const level = match[2].toUpperCase().replace(/^GCE\s*/, "GCE ");
  let grade = (match[4] || "").toUpperCase();
  if (/^\d$/.test(grade) && !level.startsWith("GCE")) grade = GRADES[level][Number(grade) - 1] || grade;
  return { name: match[1], level, unit: match[3] ? Number(match[3]) : null, grade };
}

/** The reference a chip stands for, exactly as the engine reads it. */
export function refOf(chip) {
  if (chip.raw != null) return chip.raw;
  if (chip.gpa != null) return `${DEGREE} (GPA:${chip.gpa})`;
  return `${chip.name} (${chip.level}${chip.unit ? " U" + chip.unit : ""}${chip.grade ? ":" + chip.grade : ""})`;
}

/** The chip's label without its grade: what it is, whatever grade it was passed with. */
export function labelOf(chip) {
  if (chip.raw != null) return chip.raw;
  if (chip.gpa != null) return DEGREE;
  return `${chip.name} (${chip.level}${chip.unit ? " U" + chip.unit : ""})`;
}

export const keyOf = (chip) => labelOf(chip).toLowerCase();

/** The autocomplete entry a chip came from ("Sociology (CAPE)" for either unit). */
export const subjectOf = (chip) => (chip.name ? `${chip.name} (${chip.level})` : labelOf(chip)).toLowerCase();

export const sameRef = (chip, text) => refOf(chip).toLowerCase() === String(text || "").trim().toLowerCase();

/** "2.8" for 2.8, "3.0" for 3, "2.75" for 2.75: a GPA as a transcript writes it. */
export function gpaText(gpa) {
  const hundredths = Math.round(Number(gpa) * 100);
  return (hundredths / 100).toFixed(hundredths % 10 === 0 ? 1 : 2);
}

/** A GPA as typed, or null when it is not a number from 0.0 to 4.3 with at most two decimals. */
export function readGpa(text) {
  const value = String(text).trim();
  if (!/^\d(\.\d{1,2})?$/.test(value) || Number(value) > MAX_GPA) return null;
  return gpaText(value);
}

export const levelClass = (level) => "level level-" + level.toLowerCase().replace(/\s+/g, "-");

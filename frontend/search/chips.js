// The chips of the subjects a student has: each with its unit choice (a CAPE subject) and grade choice, and a remove
// button; for the student page and the admin dashboard's "Try as a student" preview.

import { h } from "../shared/dom.js";
import { DEGREE, GRADES, keyOf, labelOf, levelClass, refOf, sameRef, subjectOf } from "./references.js";

const UNIT_CHOICES = [["", "Both units"], ["1", "Unit 1 only"], ["2", "Unit 2 only"]];

/** The chips with `chip` put in: in the place of the one it `replaces` (a reference) or of one with its label, else at
 *  the end. The other unit of the same CAPE subject at the same grade joins it into the whole subject. */
export function withChip(chips, chip, replaces = null) {
  const replaced = (c) => (replaces != null && sameRef(c, replaces)) || keyOf(c) === keyOf(chip);
  const other = chip.unit && chips.find((c) => !replaced(c) && subjectOf(c) === subjectOf(chip)
    && c.unit === 3 - chip.unit && c.grade === chip.grade);
  const placed = other ? { ...chip, unit: null } : chip;
  const gone = (c) => replaced(c) || c === other || keyOf(c) === keyOf(placed);
  const at = chips.findIndex(gone);
  if (at < 0) return [...chips, placed];
  return chips.map((c, i) => (i === at ? placed : c)).filter((c) => c === placed || !gone(c));
}

/** The chips with chip `index`'s unit or grade changed to `value` (joining or splitting units as withChip does). */
export function changedChips(chips, index, field, value) {
  const chip = chips[index];
  const changed = { ...chip, [field]: field === "unit" ? Number(value) || null : value };
  return withChip(chips, changed, refOf(chip));
}

/** What /api/subjects tells the chips: how many units each CAPE subject has ("sociology (cape)" -> 2)... */
export const unitsOf = (body) => new Map(body.subjects.filter((s) => s.units).map((s) => [s.label.toLowerCase(), s.units]));

/** ...and each level's grades, best first (GRADES for an engine that does not send its `levels` yet). */
export const gradesOf = (body) => ({ ...GRADES, ...Object.fromEntries((body.levels || []).map((l) => [l.level, l.grades])) });

function chipName(chip) {
  if (chip.gpa != null) return [DEGREE, h("span", { class: "level level-gpa", text: `GPA ${chip.gpa}` })];
  if (chip.raw != null) return [chip.raw];
  return [chip.name, h("span", { class: levelClass(chip.level), text: chip.level })];
}

function chipSelect(chip, index, change, { field, name, choices, value }) {
  const id = `${field}-${index}`;
  return h("span", { class: "chip-select" },
    h("label", { for: id, class: "visually-hidden", text: `${name} for ${labelOf(chip)}` }),
    h("select", { id, "data-testid": `chip-${field}`, onchange: (event) => change(index, field, event.target.value) },
      choices.map(([v, text]) => h("option", { value: v, selected: String(value ?? "") === v, text }))));
}

/** The chip list's items. `units` and `grades` come from unitsOf and gradesOf; `change(index, field, value)` and
 *  `remove(index)` say what the selects and the remove button do. */
export function chipItems(chips, { units, grades, change, remove }) {
  return chips.map((chip, index) => {
    const label = labelOf(chip);
    // The unit choice of a CAPE chip: for two-unit subjects (all CAPE subjects until the subject list says otherwise).
    const unitChoice = chip.level === "CAPE" && !(units.get(subjectOf(chip)) === 1 && !chip.unit);
    return h("li", { class: "chip" + (chip.invalid ? " chip-invalid" : ""), "data-testid": "chip", "data-subject": label },
      h("span", { class: "chip-name" }, chipName(chip)),
      unitChoice ? chipSelect(chip, index, change, { field: "unit", name: "Units", choices: UNIT_CHOICES, value: chip.unit }) : null,
      chip.level ? chipSelect(chip, index, change, {
        field: "grade", name: "Grade", value: chip.grade,
        choices: [["", "Any pass"], ...(grades[chip.level] || []).map((g) => [g, `Grade ${g}`])],
      }) : null,
      h("button", {
        type: "button", class: "chip-remove", "aria-label": `Remove ${label}`, title: `Remove ${label}`,
        onclick: () => remove(index),
      }, h("span", { "aria-hidden": "true", text: "×" })));
  });
}

// The engine's Check objects (one requirement, met or not) as sentences, built from their fields by `kind`; the
// engine's `text` is only said for a kind this page does not know yet.

import { h, plural } from "../shared/dom.js";
import { gpaText, labelOf, parseRef } from "./references.js";

/** A reference as words: "Chemistry (CAPE) grade II or better", "Sociology (CAPE) Unit 2", with the grade in bold.
 *  `held` says what the student has, so "grade III" without "or better". */
export function refNodes(label, { held = false } = {}) {
  const ref = parseRef(label);
  if (ref.raw != null) return [label];
  if (ref.gpa != null) return ["an associate degree with a GPA of ", h("strong", { text: gpaText(ref.gpa) }), held ? "" : " or better"];
  return [
    `${ref.name} (${ref.level})`,
    ref.unit ? ` Unit ${ref.unit}` : "",
    ref.grade ? [" grade ", h("strong", { class: "grade", text: ref.grade }), held ? "" : " or better"] : "",
  ].flat();
}

/** "A, B and C" (or "A, B or C") with each reference as words. */
function refList(labels, conjunction = "and") {
  return labels.flatMap((label, i) => [
    i === 0 ? "" : i === labels.length - 1 ? ` ${conjunction} ` : ", ", ...refNodes(label)]);
}

/** "; Caribbean Studies (CAPE) is not counted here": held subjects this programme leaves out of its counts. */
function notCountedNote(check) {
  const left = check.not_counted || [];
  if (!left.length) return [];
  return ["; ", ...refList(left), left.length === 1 ? " is" : " are", " not counted here"];
}

/** "5 CSEC passes (needs 5)" or "1 more CAPE pass (needs 2, you have 1)". */
function countSentence(check, one, many) {
  const [said, detail] = check.met
    ? [plural(check.counted, one, many), `needs ${check.needed}`]
    : [plural(check.short, `more ${one}`, `more ${many}`), `needs ${check.needed}, you have ${check.counted}`];
  return [`${said} (${detail}`, ...notCountedNote(check), ")"];
}

/** Whether what meets a requirement is another qualification (a GCE A-Level for a CAPE subject), not just a grade. */
const otherThing = (by, wanted) => labelOf(parseRef(by)) !== labelOf(parseRef(wanted));

/** "(you have Physics (CAPE) grade III)", and "grade not given" when the requirement names a grade the chip lacks. */
function youHave(held, wanted) {
  const ungraded = !parseRef(held).grade && parseRef(wanted).grade;
  return [" (you have ", ...refNodes(held, { held: true }), ungraded ? ", grade not given" : "", ")"];
}

const SENTENCES = {
  passes: (c) => countSentence(c, `${c.level} pass`, `${c.level} passes`),
  units: (c) => countSentence(c, "CAPE unit", "CAPE units"),
  subject: (c) => [
    ...refNodes(c.subject),
    c.met && c.by && otherThing(c.by, c.subject) ? youHave(c.by, c.subject) : [],
    !c.met && c.held ? youHave(c.held, c.subject) : [],
  ].flat(),
  associate_degree: (c) => [...REQUIREMENTS.associate_degree(c), c.gpa == null ? "" : ` (yours is ${gpaText(c.gpa)})`],
  combination: (c) => {
    const unmet = c.options.filter((o) => !c.met_options.includes(o));
    if (c.met) return [...REQUIREMENTS.combination(c), " (you have ", ...refList(c.met_options), ")"];
    return [c.short === 1 && c.need === 1 ? "One of " : `${c.short} more of `, ...refList(unmet, "or")];
  },
};

/** What a Check asks, whoever reads it: the programme's requirement before any subjects are given. */
const REQUIREMENTS = {
  passes: (c) => [plural(c.needed, `${c.level} pass`, `${c.level} passes`)],
  units: (c) => [plural(c.needed, "CAPE unit")],
  subject: (c) => refNodes(c.subject),
  associate_degree: (c) => ["An associate degree with a GPA of ", h("strong", { text: gpaText(c.min_gpa) }), " or better"],
  combination: (c) => [c.need === 1 ? "One of " : `${c.need} of `, ...refList(c.options, "or")],
};

/** The words of one Check: how the student stands with it (`judged`), or only what it asks. */
export function checkNodes(check, { judged = true } = {}) {
  const sentence = (judged ? SENTENCES : REQUIREMENTS)[check.kind];
  return sentence ? sentence(check) : [check.text];
}

/** The subjects a student could add to meet a failed Check: [{subject, replaces}] (none for counts and GPAs). */
export function fixesFor(check) {
  if (check.met) return [];
  if (check.kind === "subject") return [{ subject: check.subject, replaces: check.held || null }];
  if (check.kind === "combination") {
    return check.options.filter((o) => !check.met_options.includes(o)).map((subject) => ({ subject, replaces: null }));
  }
  return [];
}

// "Try as a student": an upload's answers (POST /api/uploads/<id>/search, the engine's own answer for that version)
// rendered by the student page's modules inside a shadow root that links the student page's CSS, so its cards look
// as students will see them and its class names cannot meet the dashboard's.

import { h } from "../shared/dom.js";
import { renderAnswer } from "../search/answer.js";
import { changedChips, chipItems, gradesOf, unitsOf, withChip } from "../search/chips.js";
import { subjectCombobox } from "../search/combobox.js";
import { prepare } from "../search/ranking.js";
import { GRADES, parseRef, refOf, subjectOf } from "../search/references.js";

/** Build the preview in `host` once. `subjects()` loads the engine's subject list; `search(id, refs)` asks the
 *  admin API. Returns show(upload), which starts a fresh try of that upload. */
export function studentPreview(host, { subjects, search }) {
  const root = host.attachShadow({ mode: "open" });
  const input = h("input", {
    id: "subject-input", "data-testid": "preview-input", type: "text", role: "combobox", "aria-autocomplete": "list",
    "aria-expanded": "false", "aria-controls": "subject-listbox", "aria-describedby": "subject-hint", autocomplete: "off",
    autocapitalize: "off", spellcheck: "false", placeholder: "e.g. Chemistry, Maths, CAPE…", disabled: true,
  });
  const listbox = h("ul", { id: "subject-listbox", role: "listbox", "aria-label": "Subjects", class: "listbox", hidden: true });
  const chipList = h("ul", { class: "chips", id: "chips", "aria-label": "Subjects tried", "data-testid": "preview-chips" });
  const problem = h("div", { class: "inline-error", role: "alert", "data-testid": "preview-error", hidden: true });
  const answer = h("div", { class: "preview-answer", "data-testid": "preview-answer", "aria-live": "polite" });
  root.append(
    h("link", { rel: "stylesheet", href: "../shared/base.css" }),
    h("link", { rel: "stylesheet", href: "../search/search.css" }),
    h("style", { text: ":host { display: block; } .preview { display: grid; gap: 14px; } .preview-answer { display: grid; gap: 18px; } #subject-input { padding-left: 12px; }" }),
    h("div", { class: "preview" },
      h("div", { class: "field" },
        h("label", { for: "subject-input", class: "field-label", text: "Add a subject" }),
        h("div", { class: "combo" }, input, listbox),
        h("p", { id: "subject-hint", class: "hint", text: "Type to search, use the arrow keys to pick, Enter to add." })),
      chipList, problem, answer));

  let upload = null, chips = [], list = null, seq = 0;
  let facts = { units: new Map(), grades: { ...GRADES } };  // from the subject list, as on the student page

  function renderChips() {
    const focused = root.activeElement?.closest("#chips") ? root.activeElement.id : "";
    chipList.replaceChildren(...chipItems(chips, {
      ...facts,
      change: (index, field, value) => setChips(changedChips(chips, index, field, value)),
      remove: (index) => { setChips(chips.filter((_, i) => i !== index)); input.focus(); },
    }));
    if (focused) root.getElementById(focused)?.focus();
  }

  function setChips(next) {
    chips = next;
    renderChips();
    run();
  }

  /** Put a reference in (a chosen subject, a suggestion, a fix), in the place of the one it `replaces`. */
  function add(ref, replaces = null) {
    setChips(withChip(chips, typeof ref === "string" ? parseRef(ref) : ref, replaces));
    input.focus();
  }

  async function run() {
    const mine = ++seq;
    problem.hidden = true;
    if (!chips.length) {
      answer.replaceChildren(h("p", { class: "muted", text: "Add the subjects of a student to see what this catalogue would offer them." }));
      return;
    }
    answer.setAttribute("aria-busy", "true");
    try {
      const body = await search(upload.id, chips.map(refOf));
      if (mine !== seq) return;
      renderAnswer(body, answer, { link: (p) => h("span", { "data-programme-link": p.id }, p.name), add });
    } catch (error) {
      if (mine !== seq) return;
      const unread = (error.body?.subjects || []).map((s) => `${s.input}: ${s.error}`);
      problem.replaceChildren(h("p", { class: "inline-error-title", text: error.message }),
        unread.length ? h("ul", {}, unread.map((text) => h("li", { text }))) : null);
      problem.hidden = false;
      answer.replaceChildren();
    } finally {
      if (mine === seq) answer.setAttribute("aria-busy", "false");
    }
  }

  subjectCombobox({
    input, listbox, subjects: () => list, chosen: () => new Set(chips.map(subjectOf)),
    choose: (subject) => add({ name: subject.name, level: subject.level, unit: null, grade: "" }),
  });

  return async function show(which) {
    upload = which;
    setChips([]);
    if (!list) {
      try {
        const body = await subjects();
        list = prepare(body.subjects);
        facts = { units: unitsOf(body), grades: gradesOf(body) };
      } catch (error) {
        problem.replaceChildren(h("p", { class: "inline-error-title", text: `The subject list could not be loaded: ${error.message}` }));
        problem.hidden = false;
        return;
      }
    }
    input.disabled = false;
    input.focus();
  };
}

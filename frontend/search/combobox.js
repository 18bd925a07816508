// The subject autocomplete (an ARIA 1.2 combobox with a listbox popup), for the student page and the admin
// dashboard's "Try as a student" preview: type to filter /api/subjects, the arrow keys to pick, Enter to add.

import { h } from "../shared/dom.js";
import { rank } from "./ranking.js";
import { levelClass } from "./references.js";

const MAX_OPTIONS = 50;

function aliasHint(subject, query) {
  const word = query.trim().toLowerCase().split(/\s+/)[0];
  if (!word || subject.label.toLowerCase().includes(word)) return null;
  return subject.aliases.find((a) => a.toLowerCase().includes(word)) || null;
}

/** Wire `input` and its `listbox`. `subjects()` gives the prepared subject list (ranking.js; null until loaded),
 *  `chosen()` the labels already chosen (lower case, left out of the list), `choose(subject)` adds one. */
export function subjectCombobox({ input, listbox, subjects, chosen, choose }) {
  let options = [];   // subjects shown in the listbox
  let active = -1;    // index of the highlighted option

  function openList(query) {
    if (!subjects()) return;
    const taken = chosen();
    options = rank(subjects().filter((s) => !taken.has(s.label.toLowerCase())), query).slice(0, MAX_OPTIONS);
    active = -1;
    listbox.replaceChildren();
    if (!options.length) {
      listbox.append(h("li", { class: "option-empty", role: "presentation", text: `No subject matches “${query.trim()}”` }));
    }
    options.forEach((subject, index) => {
      const alias = aliasHint(subject, query);
      listbox.append(h("li", {
        id: `${listbox.id}-option-${index}`, role: "option", class: "option", "aria-selected": "false",
        "data-subject": subject.label,
        onmousedown: (event) => event.preventDefault(),
        onclick: () => pick(index),
      },
      h("span", { class: "option-name", text: subject.name }),
      h("span", { class: levelClass(subject.level), text: subject.level }),
      alias ? h("span", { class: "option-alias", text: `also “${alias}”` }) : null));
    });
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.removeAttribute("aria-activedescendant");
  }

  function closeList() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const items = listbox.querySelectorAll("[role=option]");
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
    const current = items[active];
    input.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  }

  function pick(index) {
    const subject = options[index];
    if (!subject) return;
    input.value = "";
    closeList();
    choose(subject);
    input.focus();
  }

  function onKey(event) {
    const open = input.getAttribute("aria-expanded") === "true";
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) { openList(input.value); highlight(0); } else highlight(active + 1);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (!open) { openList(input.value); highlight(-1); } else highlight(active - 1);
        break;
      case "Enter":
        if (open && options.length) {
          event.preventDefault();
          pick(active >= 0 ? active : 0);
        }
        break;
      case "Escape":
        if (open) { event.preventDefault(); closeList(); } else input.value = "";
        break;
      case "Home": case "End":
        if (open && active >= 0) {
          event.preventDefault();
          highlight(event.key === "Home" ? 0 : options.length - 1);
        }
        break;
      default:
    }
  }

  input.addEventListener("input", () => openList(input.value));
  input.addEventListener("keydown", onKey);
  input.addEventListener("blur", () => closeList());
  input.addEventListener("click", () => { if (listbox.hidden && input.value) openList(input.value); });
}

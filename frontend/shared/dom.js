// What both pages build their DOM with. No framework and no build step: an ES module the pages import.

/** Build an element: h("td", {class: "num", text: "7", dataset: {label: "Errors"}, onclick: f}, child, ...).
 *  Text is never parsed as HTML; null, undefined and false attributes and children are left out. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child != null && child !== false));
  return node;
}

/** Replace a node's children, leaving out null, undefined and false as h() does (replaceChildren would write "null"). */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child != null && child !== false));
  return node;
}

export const plural = (n, one, many = one + "s") => `${n.toLocaleString()} ${n === 1 ? one : many}`;

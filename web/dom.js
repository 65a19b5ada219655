// DOM helpers. Data only ever reaches the page as text nodes or attribute values, never as markup.

/**
 * Create an element: h("a", { href: "#/x", class: "link" }, "text", childNode).
 * Props: class, text, dataset, style (object), on<event> (function); true sets an empty attribute;
 * null, undefined and false are skipped.
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = String(value);
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style") Object.assign(element.style, value);
    else if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  append(element, ...children);
  return element;
}

/** Append children (nodes, strings, numbers, nested arrays); null/undefined/false are skipped. */
export function append(element, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** Replace an element's content. */
export function replace(element, ...children) {
  element.replaceChildren();
  return append(element, ...children);
}

/** Text that only screen readers read. */
export function srOnly(text) {
  return h("span", { class: "visually-hidden" }, text);
}

let announceTimer = 0;

/** Say something in the polite live region (loading, results, errors). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  // Clear first so that the same message twice is announced twice.
  region.textContent = "";
  window.clearTimeout(announceTimer);
  announceTimer = window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

let uniqueId = 0;

/** A document-unique id for label/aria wiring. */
export function nextId(prefix) {
  uniqueId += 1;
  return `${prefix}-${uniqueId}`;
}

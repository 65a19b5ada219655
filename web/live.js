// Live updates: while something a view shows can still change (a recipient is pending), it is
// fetched again every few seconds and re-rendered in place, keeping the reader's scroll position,
// focus, typed text and opened details. Paused while the tab is hidden (Page Visibility API).

import config from "./config.js";
import { h } from "./dom.js";
import { ago } from "./format.js";

const DEFAULT_SECONDS = 10;
const MIN_SECONDS = 0.5;

/** The refresh interval in ms: `?refresh=SECONDS` in the page address (tests use a short one), else config.refreshSeconds, else 10 s. */
export function refreshInterval(search = window.location.search, settings = config) {
  const fromQuery = Number.parseFloat(new URLSearchParams(search).get("refresh") ?? "");
  const fromConfig = Number(settings.refreshSeconds);
  const seconds = fromQuery > 0 ? fromQuery : fromConfig > 0 ? fromConfig : DEFAULT_SECONDS;
  return Math.max(MIN_SECONDS, seconds) * 1000;
}

// --- Keeping the reader's place across a re-render ------------------------------------------------

/** The child-index path from root to element, to find "the same place" in the new content. */
function indexPath(root, element) {
  const path = [];
  for (let node = element; node && node !== root; node = node.parentElement) {
    path.unshift([...node.parentElement.children].indexOf(node));
  }
  return path;
}

function atPath(root, path) {
  let node = root;
  for (const index of path) {
    node = node?.children[index];
    if (!node) return null;
  }
  return node;
}

/** How to find the focused element again: its focus key, else its link target, else its place. */
function focusSignature(root) {
  const element = document.activeElement;
  if (!element || element === root || !root.contains(element)) return null;
  if (element.dataset.focusKey) return { key: element.dataset.focusKey };
  if (element.matches("a[href]")) {
    const href = element.getAttribute("href");
    const same = [...root.querySelectorAll("a[href]")].filter((a) => a.getAttribute("href") === href);
    return { href, index: same.indexOf(element) };
  }
  return { path: indexPath(root, element), tag: element.tagName };
}

function findFocus(root, signature) {
  if (signature.key) return root.querySelector(`[data-focus-key="${CSS.escape(signature.key)}"]`);
  if (signature.href !== undefined) {
    const same = [...root.querySelectorAll("a[href]")].filter((a) => a.getAttribute("href") === signature.href);
    return same[signature.index] ?? same[0] ?? null;
  }
  const found = atPath(root, signature.path);
  return found?.tagName === signature.tag ? found : null;
}

const keyOf = (element) => element.dataset.focusKey || element.dataset.keep;

/** What a re-render would lose: scroll positions, focus, typed values and opened <details>. */
export function captureState(root) {
  const focused = document.activeElement;
  const fields = [];
  for (const element of root.querySelectorAll("input[data-focus-key], input[data-keep], textarea[data-keep]")) {
    const entry = { key: keyOf(element), tag: element.tagName, value: element.value };
    entry.changed = element.value !== element.defaultValue;
    if (element === focused) entry.selection = [element.selectionStart, element.selectionEnd];
    fields.push(entry);
  }
  // Opened <details> (the legend, a raw diagnostic): by key when they have one, else by their order.
  const details = [...root.querySelectorAll("details")].map((element) => [element.dataset.keep ?? null, element.open]);
  const scrolled = [...root.querySelectorAll(".table-wrap, .timeline-wrap")].map((element) => [element.scrollLeft, element.scrollTop]);
  return { x: window.scrollX, y: window.scrollY, focus: focusSignature(root), fields, details, scrolled };
}

export function restoreState(root, state) {
  for (const entry of state.fields) {
    const element = [...root.querySelectorAll(entry.tag)].find((candidate) => keyOf(candidate) === entry.key);
    if (element && entry.changed) element.value = entry.value;
  }
  const opened = new Map(state.details.filter(([key]) => key !== null));
  const unkeyed = state.details.filter(([key]) => key === null);
  let index = 0;
  for (const element of root.querySelectorAll("details")) {
    const key = element.dataset.keep ?? null;
    if (key !== null) {
      if (opened.has(key)) element.open = opened.get(key);
    } else {
      if (index < unkeyed.length) element.open = unkeyed[index][1];
      index += 1;
    }
  }
  [...root.querySelectorAll(".table-wrap, .timeline-wrap")].forEach((element, index) => {
    const [left, top] = state.scrolled[index] ?? [0, 0];
    element.scrollLeft = left;
    element.scrollTop = top;
  });
  if (state.focus) {
    const again = findFocus(root, state.focus);
    const target = again && !again.disabled ? again : document.getElementById("page-title");
    target?.focus({ preventScroll: true });
    const field = state.fields.find((entry) => entry.selection && entry.key === target?.dataset?.focusKey);
    if (field && typeof target.setSelectionRange === "function") {
      try {
        target.setSelectionRange(...field.selection);
      } catch {
        // an input type without a selection (email): the caret stays at the end
      }
    }
  }
  window.scrollTo(state.x, state.y);
}

// --- The schedule and the "updated 5 s ago" line --------------------------------------------------

/**
 * One timer for the page: every `interval` while the tab is visible it calls onTick (which
 * refreshes the navigation's count and, when the view is live, the view). The current view's
 * indicator says when its data was fetched, ticking every second.
 */
export class LiveUpdates {
  constructor({ interval, onTick }) {
    this.interval = interval;
    this.onTick = onTick;
    this.timer = 0;
    this.lastTick = Date.now();
    this.running = false;
    this.view = null; // { updatedAt, live(), indicator, error }
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
    window.setInterval(() => this.paint(), 1000);
  }

  /** A view finished rendering (or refreshing): its data is as of now. */
  viewUpdated(view) {
    this.view = view;
    this.paint();
  }

  /** A refresh of the current view failed: keep what is shown and say so. */
  viewFailed(error) {
    if (this.view) this.view.error = error;
    this.paint();
  }

  start() {
    this.lastTick = Date.now();
    this.schedule();
  }

  schedule() {
    window.clearTimeout(this.timer);
    this.timer = 0;
    if (document.hidden) return;
    const wait = Math.max(0, this.lastTick + this.interval - Date.now());
    this.timer = window.setTimeout(() => this.tick(), wait);
  }

  async tick() {
    this.timer = 0;
    if (document.hidden || this.running) return;
    this.running = true;
    try {
      await this.onTick();
    } catch (error) {
      console.error(error);
    } finally {
      this.running = false;
      this.lastTick = Date.now();
      this.schedule();
    }
  }

  visibilityChanged() {
    // Hidden: no requests at all. Visible again: catch up at once if a tick was missed.
    if (document.hidden) {
      window.clearTimeout(this.timer);
      this.timer = 0;
    } else {
      this.schedule();
    }
    this.paint();
  }

  paint() {
    const view = this.view;
    if (!view?.indicator?.isConnected) return;
    const { updated, mode } = view.indicator.parts;
    updated.textContent = view.error
      ? `Could not update (${view.error.message}); showing what was loaded ${ago(Date.now() - view.updatedAt)}.`
      : `Updated ${ago(Date.now() - view.updatedAt)}`;
    updated.classList.toggle("live-error", Boolean(view.error));
    const seconds = Math.round(this.interval / 1000);
    mode.textContent = !view.live()
      ? ""
      : document.hidden
        ? "\u00b7 updates paused while this tab is hidden"
        : `\u00b7 updates every ${seconds} s while ${view.what ?? "something is pending"}`;
    view.indicator.dataset.live = view.live() ? "on" : "off";
  }
}

/** The line under a view's heading: when its data was fetched, and a button to fetch it now. */
export function liveIndicator(onRefresh) {
  const updated = h("span", { class: "live-updated" });
  const mode = h("span", { class: "live-mode" });
  const button = h("button", { type: "button", class: "button secondary live-refresh", dataset: { focusKey: "refresh-now" } }, "Refresh now");
  button.addEventListener("click", onRefresh);
  const element = h("p", { class: "live-status" }, updated, mode, button);
  element.parts = { updated, mode };
  return element;
}

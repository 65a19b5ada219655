// The dashboard: sign-in, hash routing (#/messages/ID...), and the views of the help article.

import config from "./config.js";
import { createApi } from "./api.js";
import { Auth } from "./auth.js";
import { announce, h, replace } from "./dom.js";
import { captureState, liveIndicator, LiveUpdates, refreshInterval, restoreState } from "./live.js";
import { attentionView } from "./views/attention.js";
import { errorState, links, loadingState, notFoundState, pageHeading } from "./views/common.js";
import { customerView, invoiceView, lookupView, statusesView } from "./views/documents.js";
import { recipientsView, summaryView, timelineView } from "./views/message.js";
import { messagesView } from "./views/messages.js";
import { overviewView } from "./views/overview.js";

const APP_NAME = "Delivery tracker";
const LOADING_DELAY_MS = 150;

const auth = new Auth(config);
const api = createApi({
  baseUrl: config.apiUrl,
  getToken: () => auth.token(),
  onUnauthorized: () => auth.forget(),
  tokenPrefix: auth.local ? "Bearer " : "",
});
const main = document.getElementById("main");

// Each route: path pattern, view, section (for the navigation), and what a 404 is about.
const ROUTES = [
  { pattern: ["messages"], view: messagesView, section: "messages" },
  { pattern: ["overview"], view: overviewView, section: "overview" },
  { pattern: ["attention"], view: attentionView, section: "attention" },
  { pattern: ["messages", ":id"], view: recipientsView, section: "messages", missing: "Message" },
  { pattern: ["messages", ":id", "summary"], view: summaryView, section: "messages", missing: "Message" },
  { pattern: ["messages", ":id", "recipients", ":rid"], view: timelineView, section: "messages", missing: "Recipient" },
  { pattern: ["invoices", ":id"], view: invoiceView, section: "lookup", missing: "Invoice" },
  { pattern: ["customers", ":id"], view: customerView, section: "lookup", missing: "Customer" },
  { pattern: ["lookup"], view: lookupView, section: "lookup", public: true },
  { pattern: ["statuses"], view: statusesView, section: "statuses", public: true },
];

function parseLocation() {
  const raw = window.location.hash.replace(/^#/, "");
  const [path, search = ""] = raw.split("?");
  let segments;
  try {
    segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    segments = null; // a malformed %-escape
  }
  return { raw, segments, query: new URLSearchParams(search) };
}

function matchRoute(segments) {
  if (!segments) return null;
  for (const route of ROUTES) {
    if (route.pattern.length !== segments.length) continue;
    const params = {};
    const ok = route.pattern.every((part, index) => {
      if (part.startsWith(":")) {
        params[part.slice(1)] = segments[index];
        return true;
      }
      return part === segments[index];
    });
    if (ok) return { route, params };
  }
  return null;
}

// Paging position per list (route and filters), kept while the tab is open.
const pagers = new Map();
function pagerFor(key) {
  if (!pagers.has(key)) pagers.set(key, { cursors: [null], index: 0 });
  return pagers.get(key);
}

function updateChrome(section) {
  for (const link of document.querySelectorAll("[data-section]")) {
    if (link.dataset.section === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const account = document.getElementById("account");
  const tenant = auth.tenant();
  if (auth.token()) {
    const signOut = h("button", { type: "button", class: "button link-button" }, "Sign out");
    signOut.addEventListener("click", () => {
      auth.signOut();
      if (auth.local) render({ reason: "signed-out" });
    });
    replace(account, h("span", { class: "account-name" }, tenant ? `Account: ${tenant}` : "Signed in", auth.local ? " (local)" : ""), signOut);
  } else {
    replace(account, h("span", { class: "account-name" }, "Signed out"));
  }
}

let renderCount = 0;
let firstRender = true;

/** After a view is complete: tests wait for this, and the first page load leaves focus alone. */
function rendered({ focusHeading }) {
  if (focusHeading && !firstRender) document.getElementById("page-title")?.focus();
  firstRender = false;
  document.documentElement.dataset.rendered = window.location.hash;
}

function signedOutView(reason) {
  const button = h("button", { type: "button", class: "button", dataset: { focusKey: "sign-in" } }, reason === "expired" ? "Sign in again" : "Sign in");
  const status = h("p", { class: "muted", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Signing in\u2026";
    try {
      if (await auth.signIn()) render();
    } catch (error) {
      status.textContent = error.message;
      button.disabled = false;
    }
  });
  const text =
    reason === "expired"
      ? "Your sign-in has expired or is not valid, so your messages cannot be shown."
      : reason === "signed-out"
        ? "You signed out."
        : reason
          ? reason
          : "Sign in to see your messages and their delivery status.";
  replace(
    main,
    h(
      "div",
      { class: "state state-signed-out" },
      pageHeading("You are signed out"),
      h("p", {}, text),
      button,
      status,
    ),
  );
  main.removeAttribute("aria-busy");
  document.title = `Signed out \u00b7 ${APP_NAME}`;
  updateChrome(null);
  showAttentionCount(null); // the next account's count is fetched once it has signed in
  announce("You are signed out.");
  rendered({ focusHeading: true });
}

// The view on screen once it is complete: live updates re-render it in place while live() says so.
let current = null;

/** The API for one render, recording its answers so a refresh can tell whether anything changed. */
function recordingApi(records) {
  const wrapped = {};
  for (const [name, call] of Object.entries(api)) {
    wrapped[name] = async (...args) => {
      const answer = await call(...args);
      records.push(JSON.stringify(answer));
      return answer;
    };
  }
  return wrapped;
}

/**
 * Render the current address. Options: reason (why signed out), keepFocus (re-render in place),
 * refresh (a live update: fetch again and, if anything changed, re-render keeping the reader's place).
 */
async function render(options = {}) {
  const seq = ++renderCount;
  const isCurrent = () => seq === renderCount;
  const previousFocus = document.activeElement?.dataset?.focusKey ?? null;
  const keepFocus = Boolean(options.keepFocus);
  const refresh = Boolean(options.refresh);
  const location = parseLocation();
  if (!location.raw || location.raw === "/") {
    window.location.replace(links.messages());
    return;
  }
  const matched = matchRoute(location.segments);
  if (!refresh) updateChrome(matched?.route.section ?? null);
  if (options.reason || (!auth.token() && !matched?.route.public)) {
    current = null;
    signedOutView(options.reason);
    return;
  }
  if (!matched) {
    current = null;
    replace(main, notFoundState("Page", { href: links.messages(), label: "Go to Messages" }));
    document.title = `Not found \u00b7 ${APP_NAME}`;
    announce("Page not found.");
    rendered({ focusHeading: true });
    return;
  }
  if (!refresh) refreshAttentionCount();
  const { route, params } = matched;
  const pagerKey = `${location.segments.join("/")}?${location.query}`;
  const records = [];
  const startedAt = Date.now();
  let loadingTimer = 0;
  let holds = 0;
  let indicator = null;
  let unchanged = false;

  const ctx = {
    api: recordingApi(records),
    params,
    query: location.query,
    pager: pagerFor(pagerKey),
    isCurrent,
    refreshing: refresh,
    navigate(hash) {
      // A filter change: the new view keeps focus on the control that changed it.
      if (window.location.hash === hash) render({ keepFocus: true });
      else window.location.hash = hash;
    },
    rerender: () => render({ keepFocus: true }),
    /** Re-render in place now (after an action), as a live update does. */
    refresh: () => render({ refresh: true }),
    /** While an action is under way no live update replaces the view; call the returned release. */
    hold() {
      holds += 1;
      let released = false;
      return () => {
        if (!released) holds -= 1;
        released = true;
      };
    },
    attentionChanged: () => refreshAttentionCount(),
    loading(text) {
      if (refresh) return; // a live update keeps the page as it is until the new data is in
      main.setAttribute("aria-busy", "true");
      announce(text);
      loadingTimer = window.setTimeout(() => {
        if (isCurrent()) replace(main, loadingState(text));
      }, LOADING_DELAY_MS);
    },
    show(...nodes) {
      if (!isCurrent()) return;
      window.clearTimeout(loadingTimer);
      const signature = records.slice().sort().join("\n");
      if (refresh && current && current.signature === signature) {
        unchanged = true; // nothing changed: leave the page (and any selected text) alone
        return;
      }
      const state = refresh ? captureState(main) : null;
      replace(main, ...nodes);
      if (!route.public) {
        indicator = liveIndicator(() => render({ refresh: true }));
        main.querySelector("#page-title")?.after(indicator);
      }
      if (state) restoreState(main, state);
      ctx.signature = signature;
    },
    done(title, message, { live = false, what } = {}) {
      if (!isCurrent()) return;
      window.clearTimeout(loadingTimer);
      main.removeAttribute("aria-busy");
      const view = {
        seq,
        signature: unchanged ? current?.signature : ctx.signature,
        updatedAt: startedAt,
        indicator: unchanged ? current?.indicator : indicator,
        live: typeof live === "function" ? live : () => Boolean(live),
        what,
        busy: () => holds > 0,
      };
      current = view;
      liveUpdates.viewUpdated(view);
      if (refresh) return; // no announcement, title or focus change for a live update
      document.title = `${title} \u00b7 ${APP_NAME}`;
      announce(message ? `${title}. ${message}` : title);
      // The control that caused this update keeps the focus (a filter, a page button; on the last
      // page "Next" is disabled, so its neighbour "Previous" takes it).
      let again = previousFocus ? main.querySelector(`[data-focus-key="${CSS.escape(previousFocus)}"]`) : null;
      if (again?.disabled && previousFocus.startsWith("pager-")) {
        again = main.querySelector('[data-focus-key^="pager-"]:not(:disabled)');
      }
      const restored = Boolean(again && !again.disabled);
      if (restored) again.focus();
      rendered({ focusHeading: !restored && (!keepFocus || !main.contains(document.activeElement)) });
    },
    fail(error) {
      fail(error, { route, isCurrent, loadingTimer, refresh });
    },
  };
  try {
    await route.view(ctx);
  } catch (error) {
    fail(error, { route, isCurrent, loadingTimer, refresh });
  }
}

function fail(error, { route, isCurrent, loadingTimer, refresh }) {
  if (!isCurrent()) return;
  window.clearTimeout(loadingTimer);
  main.removeAttribute("aria-busy");
  if (refresh && error?.status !== 401 && error?.status !== 404) {
    liveUpdates.viewFailed(error); // keep what is shown; the next tick tries again
    return;
  }
  current = null;
  if (error?.status === 401) {
    signedOutView("expired");
    return;
  }
  if (error?.status === 404) {
    replace(main, notFoundState(route.missing ?? "Page", { href: links.messages(), label: "Go to Messages" }));
    document.title = `Not found \u00b7 ${APP_NAME}`;
    announce(`${route.missing ?? "Page"} not found.`);
  } else {
    console.error(error);
    replace(main, pageHeading("Could not load this page"), errorState(error, { onRetry: () => render() }));
    document.title = `Error \u00b7 ${APP_NAME}`;
    announce("Could not load this page.");
  }
  rendered({ focusHeading: true });
}

// --- Live updates and the navigation's attention count ---------------------------------------------

const attentionLink = document.querySelector('[data-section="attention"]');
const attentionCount = document.getElementById("attention-count");
let attentionSupported = true;

function showAttentionCount(count) {
  if (!attentionLink) return;
  attentionLink.closest("li").hidden = !attentionSupported;
  attentionCount.hidden = !count;
  replace(attentionCount, count ? [h("span", { "aria-hidden": "true" }, String(count)), h("span", { class: "visually-hidden" }, `: ${count} ${count === 1 ? "document" : "documents"}`)] : []);
  attentionLink.dataset.count = String(count ?? "");
}

/** The count of documents needing attention, for the navigation; an API without the route hides the link. */
async function refreshAttentionCount() {
  if (!attentionSupported || !auth.token()) return;
  try {
    const answer = await api.attentionCount();
    if (typeof answer?.count !== "number") attentionSupported = false;
    showAttentionCount(attentionSupported ? answer.count : null);
  } catch (error) {
    if ([403, 404, 405].includes(error?.status)) {
      attentionSupported = false;
      showAttentionCount(null);
    }
  }
}

const liveUpdates = new LiveUpdates({
  interval: refreshInterval(),
  async onTick() {
    const view = current;
    // Only the view on screen, complete and not superseded by a navigation under way.
    const refreshView = view && view.seq === renderCount && view.live() && !view.busy();
    await Promise.all([refreshAttentionCount(), refreshView ? render({ refresh: true }) : null]);
  },
});

async function start() {
  let problem = null;
  try {
    problem = await auth.completeRedirect();
  } catch (error) {
    problem = `Sign-in failed: ${error.message}`;
  }
  if (!problem && !auth.token() && auth.shouldSignInAutomatically()) {
    try {
      await auth.signIn();
    } catch (error) {
      problem = `${error.message} Is local mode running?`;
    }
  }
  window.addEventListener("hashchange", () => render());
  await render(problem ? { reason: problem } : {});
  document.documentElement.dataset.ready = "true";
  liveUpdates.start();
}

start();

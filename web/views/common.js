// Pieces shared by the views: badges, rates, the legend, paging, breadcrumbs, tabs and states.

import { h, nextId, srOnly } from "../dom.js";
import { formatTime, percent, plural, STATUSES, statusLabel, statusText } from "../format.js";

/** Hash links: every id is encoded, so no value can change the route or the scheme. */
export const links = {
  messages: (kind) => (kind ? `#/messages?kind=${encodeURIComponent(kind)}` : "#/messages"),
  message: (id) => `#/messages/${encodeURIComponent(id)}`,
  summary: (id) => `#/messages/${encodeURIComponent(id)}/summary`,
  timeline: (id, recipientId) =>
    `#/messages/${encodeURIComponent(id)}/recipients/${encodeURIComponent(recipientId)}`,
  invoice: (id) => `#/invoices/${encodeURIComponent(id)}`,
  customer: (id) => `#/customers/${encodeURIComponent(id)}`,
  lookup: () => "#/lookup",
  overview: () => "#/overview",
  statuses: () => "#/statuses",
};

export function time(iso) {
  if (!iso) return h("span", { class: "muted" }, "\u2014");
  return h("time", { datetime: iso, title: iso }, formatTime(iso));
}

/**
 * Why, in plain words first (what happened, then what to do), the raw diagnostic one click away.
 * Without a reason (an API from before plain reasons) the raw lines are shown as they are.
 * key: keeps the raw part open across live updates.
 */
export function plainReason(reason, rawLines, { key } = {}) {
  const raw = rawLines.filter(Boolean).map((line) => h("div", { class: "detail-line" }, line));
  if (!reason?.summary) return raw;
  return h(
    "div",
    { class: "plain-reason", dataset: { code: reason.code ?? "" } },
    h("span", { class: "reason-summary" }, reason.summary),
    reason.advice ? h("span", { class: "reason-advice" }, h("span", { class: "reason-label" }, "What to do: "), reason.advice) : null,
    raw.length
      ? h("details", { class: "raw-reason", dataset: key ? { keep: key } : null }, h("summary", {}, "Technical details"), h("div", { class: "raw-lines" }, raw))
      : null,
  );
}

/** A resent or dismissed recipient: where its new send is, or who dismissed it and when. */
export function followUp(recipient) {
  const lines = [];
  if (recipient.resent_as?.message_id) {
    lines.push(
      h(
        "span",
        { class: "detail-line follow-up resent-as" },
        "Resent ",
        time(recipient.resent_as.at),
        recipient.resent_as.by ? ` by ${recipient.resent_as.by}` : "",
        ": ",
        h("a", { href: links.message(recipient.resent_as.message_id) }, "the new email"),
      ),
    );
  }
  if (recipient.dismissed?.at) {
    lines.push(
      h(
        "span",
        { class: "detail-line follow-up dismissed" },
        "Dismissed ",
        time(recipient.dismissed.at),
        recipient.dismissed.by ? ` by ${recipient.dismissed.by}` : "",
        " (not resent)",
      ),
    );
  }
  return lines;
}

export function statusBadge(status) {
  return h(
    "span",
    { class: `badge badge-${status ?? "unknown"}`, dataset: { status: status ?? "" }, title: statusText(status) || null },
    h("span", { class: "badge-dot", "aria-hidden": "true" }),
    statusLabel(status),
  );
}

/** A rate as number and small bar; striped and marked provisional while recipients are pending. */
export function rateView(rate, part, { pending = 0, label }) {
  const text = percent(rate);
  const provisional = pending > 0;
  const wrapper = h("span", { class: "rate", dataset: { value: rate ?? "" } });
  if (text === null) {
    wrapper.append(
      h("span", { class: "rate-value muted", "aria-hidden": "true" }, "\u2014"),
      srOnly(`${label}: not available yet (no recipients in its denominator)`),
    );
    return wrapper;
  }
  const bar = h(
    "span",
    { class: `bar${provisional ? " bar-provisional" : ""}`, "aria-hidden": "true" },
    h("span", { class: "bar-fill", style: { width: `${Math.min(100, Math.max(0, rate * 100))}%` } }),
  );
  wrapper.append(
    h("span", { class: "rate-value" }, text),
    bar,
    h("span", { class: "rate-detail" }, `${part.numerator} of ${part.denominator}`),
  );
  if (provisional) wrapper.append(srOnly(` (provisional: ${plural(pending, "recipient", "recipients")} pending)`));
  return wrapper;
}

// What a message's tracking (the API's `tracking`, decided when it was sent) leaves unmeasured.
const NOT_TRACKED = {
  off: { opens: "Opens and clicks were not tracked for this kind of message.", clicks: true },
  clicks_only: { opens: "A text-only email has no tracking image, so opens are not tracked.", clicks: false },
};

/** Whether a message's opens (or, with `clicks`, its clicks) were tracked at all. */
export function tracked(message, { clicks = false } = {}) {
  const why = NOT_TRACKED[message?.tracking];
  if (!why) return true;
  return clicks ? !why.clicks : false;
}

/** "not tracked" in place of a rate nobody measured (a 0% would be wrong). */
export function notTracked(message, label, { clicks = false } = {}) {
  const why = NOT_TRACKED[message?.tracking];
  const words = clicks || message?.tracking === "off" ? "not tracked" : "opens not tracked";
  return h(
    "span",
    { class: "rate not-tracked", dataset: { tracking: message?.tracking ?? "" }, title: why ? why.opens : null },
    h("span", { class: "rate-value muted" }, words),
    srOnly(`${label}: ${why ? why.opens : "not tracked"}`),
  );
}

/** A customers-only rate with, beside it, the rate counting every open or click SES reported. */
export function rateWithAll(rate, part, rateAll, partAll, { pending = 0, label, automatic }) {
  const view = rateView(rate, part, { pending, label });
  const all = percent(rateAll);
  if (all !== null && rateAll !== rate) {
    view.append(
      h(
        "span",
        { class: "rate-all", dataset: { value: rateAll ?? "" }, title: `${partAll.numerator} of ${partAll.denominator}, counting ${automatic}` },
        `incl. ${automatic}: ${all}`,
      ),
    );
  }
  return view;
}

/** One line on why the Open Rate counts customers only, with a link to the explanation. */
export function automaticNote() {
  return h(
    "p",
    { class: "note automatic-note" },
    "Open and Click Rates count customers. Automatic opens (Apple Mail Privacy Protection) and clicks by link scanners are shown beside them. ",
    h("a", { href: `${links.statuses()}` }, "Why?"),
  );
}

export function pendingNote(pending) {
  if (!pending) return null;
  return h(
    "span",
    { class: "pending", title: "Recipients without an outcome yet: the rates are provisional." },
    `${pending} pending`,
  );
}

/** The status legend with the help article's explanations. */
export function legendList(statuses = STATUSES) {
  return h(
    "dl",
    { class: "legend-list" },
    statuses.map((status) => [h("dt", {}, statusBadge(status.id)), h("dd", {}, status.text)]),
  );
}

export function legend({ open = false } = {}) {
  return h(
    "details",
    { class: "legend", open },
    h("summary", {}, "What do the statuses mean?"),
    legendList(),
    h("p", { class: "muted" }, h("a", { href: links.statuses() }, "All statuses on one page")),
  );
}

export function breadcrumbs(...items) {
  return h(
    "nav",
    { class: "breadcrumbs", "aria-label": "Breadcrumb" },
    h(
      "ol",
      {},
      items.map((item, index) =>
        h(
          "li",
          {},
          index === items.length - 1 || !item.href
            ? h("span", { "aria-current": index === items.length - 1 ? "page" : null }, item.label)
            : h("a", { href: item.href }, item.label),
        ),
      ),
    ),
  );
}

/** Section tabs as links (each tab is its own address; the current one is marked). */
export function tabs(label, items) {
  return h(
    "nav",
    { class: "tabs", "aria-label": label },
    h(
      "ul",
      {},
      items.map((item) =>
        h(
          "li",
          {},
          h("a", { href: item.href, class: item.current ? "tab current" : "tab", "aria-current": item.current ? "page" : null }, item.label),
        ),
      ),
    ),
  );
}

/** Page size from the address (`?limit=`), within the API's bounds; else the view's default. */
export function pageSize(query, fallback) {
  const limit = Number.parseInt(query.get("limit") ?? "", 10);
  return Number.isInteger(limit) && limit >= 1 && limit <= 200 ? limit : fallback;
}

export function pageHeading(text, ...extra) {
  return h("h1", { tabindex: "-1", id: "page-title" }, text, ...extra);
}

/** A labelled select that calls onChange(value). */
export function selectField({ label, value, options, onChange, name }) {
  const id = nextId(name ?? "select");
  const select = h(
    "select",
    { id, name, dataset: { focusKey: `select-${name}` } },
    options.map((option) => h("option", { value: option.value, selected: option.value === value }, option.label)),
  );
  select.addEventListener("change", () => onChange(select.value));
  return h("div", { class: "field" }, h("label", { for: id }, label), select);
}

/**
 * Previous / next paging over opaque cursors. `pager` holds the cursors of the pages seen so far:
 * { cursors: [null, c2, c3...], index }.
 */
export function pagerNav({ pager, nextCursor, itemLabel, onMove }) {
  const hasPrevious = pager.index > 0;
  const hasNext = Boolean(nextCursor);
  if (!hasPrevious && !hasNext) return null;
  const previous = h(
    "button",
    { type: "button", class: "button secondary", disabled: !hasPrevious, dataset: { focusKey: "pager-previous" } },
    "Previous page",
  );
  const next = h(
    "button",
    { type: "button", class: "button secondary", disabled: !hasNext, dataset: { focusKey: "pager-next" } },
    "Next page",
  );
  previous.addEventListener("click", () => {
    pager.index -= 1;
    onMove("previous");
  });
  next.addEventListener("click", () => {
    pager.cursors[pager.index + 1] = nextCursor;
    pager.cursors.length = pager.index + 2;
    pager.index += 1;
    onMove("next");
  });
  return h(
    "nav",
    { class: "pager", "aria-label": `${itemLabel} pages` },
    previous,
    h("span", { class: "pager-page" }, `Page ${pager.index + 1}`),
    next,
  );
}

// --- States -----------------------------------------------------------------------------------

export function loadingState(text) {
  return h("p", { class: "state state-loading" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function emptyState(title, text) {
  return h("div", { class: "state state-empty" }, h("p", { class: "state-title" }, title), text ? h("p", {}, text) : null);
}

export function errorState(error, { onRetry } = {}) {
  const retry = onRetry ? h("button", { type: "button", class: "button" }, "Try again") : null;
  retry?.addEventListener("click", onRetry);
  const detail = error?.code && error.status ? `(${error.status} ${error.code})` : null;
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", { class: "state-title" }, "Something went wrong"),
    h("p", {}, error?.message ?? String(error)),
    detail ? h("p", { class: "muted" }, detail) : null,
    retry,
  );
}

export function notFoundState(what, back) {
  return h(
    "div",
    { class: "state state-not-found" },
    pageHeading(`${what} not found`),
    h("p", {}, `This ${what.toLowerCase()} does not exist, or it belongs to another account.`),
    h("p", {}, h("a", { href: back.href }, back.label)),
  );
}

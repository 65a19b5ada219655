// The Messages list: every sent message with its Delivery Rate and Open Rate.

import { h } from "../dom.js";
import { isKind, KINDS, kindLabel, plural, rateParts } from "../format.js";
import {
  emptyState,
  links,
  pageHeading,
  pagerNav,
  pageSize,
  automaticNote,
  pendingNote,
  rateView,
  rateWithAll,
  notTracked,
  selectField,
  time,
  tracked,
} from "./common.js";

/** A route with query parameters (empty values left out). */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

export function documentLink(item) {
  if (item.invoice_id) {
    return h("a", { href: links.invoice(item.invoice_id), class: "doc-link" }, `Invoice ${item.invoice_id}`);
  }
  if (item.payment_id) return h("span", { class: "doc-link muted" }, `Payment ${item.payment_id}`);
  return null;
}

export function kindFilter({ value, onChange, allLabel = "All kinds" }) {
  return selectField({
    label: "Kind",
    name: "kind",
    value,
    options: [{ value: "", label: allLabel }, ...KINDS.map((kind) => ({ value: kind.id, label: kind.plural }))],
    onChange,
  });
}

function messageRow(message) {
  const parts = rateParts(message);
  return h(
    "tr",
    { dataset: { messageId: message.message_id } },
    h(
      "th",
      { scope: "row", class: "subject" },
      h("a", { href: links.message(message.message_id) }, message.subject || "(no subject)"),
      documentLink(message),
    ),
    h("td", { class: "kind" }, kindLabel(message.kind)),
    h("td", { class: "sent" }, time(message.sent_at)),
    h("td", { class: "num recipients" }, String(message.recipients), pendingNote(message.pending)),
    h(
      "td",
      { class: "rate-cell delivery-rate" },
      rateView(message.delivery_rate, parts.delivery, { pending: message.pending, label: "Delivery Rate" }),
    ),
    h(
      "td",
      { class: "rate-cell open-rate" },
      tracked(message)
        ? rateWithAll(message.open_rate, parts.open, message.open_rate_all, parts.openAll, {
            pending: message.pending,
            label: "Open Rate",
            automatic: "automatic opens",
          })
        : notTracked(message, "Open Rate"),
    ),
  );
}

export async function messagesView(ctx) {
  const kind = isKind(ctx.query.get("kind")) ? ctx.query.get("kind") : "";
  ctx.loading("Loading messages\u2026");
  const page = await ctx.api.listMessages({
    kind,
    cursor: ctx.pager.cursors[ctx.pager.index],
    limit: pageSize(ctx.query, 20),
  });
  if (!ctx.isCurrent()) return;

  const items = page.items ?? [];
  // A message counted as no recipients yet is one the projector has not met (its counts lag its
  // creation by about a batching window): it will change too.
  const anyPending = items.some((message) => message.pending > 0 || message.recipients === 0);
  let content;
  if (items.length === 0) {
    content =
      ctx.pager.index > 0 || page.next_cursor
        ? emptyState("No messages on this page.", "Use the page buttons to see the others.")
        : emptyState(
            kind ? `No ${kindLabel(kind).toLowerCase()} messages yet.` : "No messages yet.",
            "Messages you send appear here with their Delivery Rate and Open Rate.",
          );
  } else {
    content = h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data messages-table" },
        h(
          "caption",
          {},
          kind ? `${KINDS.find((k) => k.id === kind).plural} sent, newest first` : "Sent messages, newest first",
          ctx.pager.index > 0 ? ` (page ${ctx.pager.index + 1})` : "",
        ),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Subject"),
            h("th", { scope: "col" }, "Kind"),
            h("th", { scope: "col" }, "Sent"),
            h("th", { scope: "col", class: "num" }, "Recipients"),
            h("th", { scope: "col" }, "Delivery Rate"),
            h("th", { scope: "col" }, "Open Rate"),
          ),
        ),
        h("tbody", {}, items.map(messageRow)),
      ),
    );
  }

  ctx.show(
    pageHeading("Messages"),
    h(
      "p",
      { class: "intro" },
      "Every message you sent, with its ",
      h("strong", {}, "Delivery Rate"),
      " (how many customers received it) and ",
      h("strong", {}, "Open Rate"),
      " (how many of those opened it). Select a message to see each recipient.",
    ),
    automaticNote(),
    h("form", { class: "filters", role: "search", "aria-label": "Filter messages", onsubmit: (e) => e.preventDefault() },
      kindFilter({ value: kind, onChange: (value) => ctx.navigate(withQuery("#/messages", { kind: value, limit: ctx.query.get("limit") })) }),
    ),
    anyPending
      ? h(
          "p",
          { class: "note" },
          h("span", { class: "bar bar-provisional bar-sample", "aria-hidden": "true" }, h("span", { class: "bar-fill" })),
          " Striped bars are provisional: some recipients have no outcome yet (shown as \u201cpending\u201d).",
        )
      : null,
    content,
    pagerNav({ pager: ctx.pager, nextCursor: page.next_cursor, itemLabel: "Messages", onMove: ctx.rerender }),
  );
  ctx.done("Messages", items.length ? `${plural(items.length, "message", "messages")} shown.` : "No messages.", {
    live: anyPending,
    what: "some recipients are pending",
  });
}

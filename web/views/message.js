// One message: its rates, the Recipients tab (status of each recipient), the Summary tab, and a
// recipient's timeline of events.

import { h, srOnly } from "../dom.js";
import { isAutomatic, isStatus, kindLabel, PENDING_STATUSES, plural, rateParts, STATUSES, statusLabel, TALLIES, verdictLabel } from "../format.js";
import {
  automaticNote,
  breadcrumbs,
  emptyState,
  legend,
  links,
  followUp,
  pageHeading,
  pagerNav,
  pageSize,
  plainReason,
  rateView,
  rateWithAll,
  notTracked,
  selectField,
  statusBadge,
  tabs,
  time,
  tracked,
} from "./common.js";
import { exportButton } from "./exports.js";
import { linksPanel, providersPanel } from "./insights.js";
import { documentLink, withQuery } from "./messages.js";

// Recipients seen in the Recipients tab, so the timeline can show who it is about without a lookup.
const recipientCache = new Map();

function messageHeader(message, current, api) {
  const parts = rateParts(message);
  const rates = [
    ["Delivery Rate", message.delivery_rate, parts.delivery],
    ["Open Rate", message.open_rate, parts.open, message.open_rate_all, parts.openAll, "automatic opens", {}],
    ["Click rate", message.click_rate, parts.click, message.click_rate_all, parts.clickAll, "automatic clicks", { clicks: true }],
    ["Bounce rate", message.bounce_rate, parts.bounce],
    ["Complaint rate", message.complaint_rate, parts.complaint],
  ];
  return [
    breadcrumbs({ href: links.messages(), label: "Messages" }, { label: message.subject || "(no subject)" }),
    pageHeading(message.subject || "(no subject)"),
    h(
      "dl",
      { class: "meta" },
      h("div", {}, h("dt", {}, "Kind"), h("dd", {}, kindLabel(message.kind))),
      h("div", {}, h("dt", {}, "Sent"), h("dd", {}, time(message.sent_at))),
      h("div", {}, h("dt", {}, "Recipients"), h("dd", {}, String(message.recipients))),
      message.invoice_id || message.payment_id
        ? h("div", {}, h("dt", {}, message.invoice_id ? "Invoice" : "Payment"), h("dd", {}, documentLink(message)))
        : null,
      message.resent_from?.message_id
        ? h("div", { class: "resent-from" }, h("dt", {}, "Resend of"), h("dd", {}, h("a", { href: links.message(message.resent_from.message_id) }, "an earlier email")))
        : null,
    ),
    h(
      "section",
      { class: "rate-cards", "aria-label": "Rates" },
      rates.map(([label, rate, part, rateAll, partAll, automatic, which]) =>
        h(
          "div",
          { class: "rate-card", dataset: { rate: label } },
          h("h2", { class: "rate-card-label" }, label),
          which && !tracked(message, which)
            ? notTracked(message, label, which)
            : automatic
              ? rateWithAll(rate, part, rateAll, partAll, { pending: message.pending, label, automatic })
              : rateView(rate, part, { pending: message.pending, label }),
        ),
      ),
    ),
    automaticNote(),
    api ? exportButton(api, { kind: "message_recipients", id: message.message_id, label: "Export recipients (CSV)" }) : null,
    message.pending > 0
      ? h(
          "p",
          { class: "note provisional-note" },
          `${plural(message.pending, "recipient has", "recipients have")} no outcome yet, so these rates are provisional.`,
        )
      : null,
    tabs("Message sections", [
      { href: links.message(message.message_id), label: `Recipients (${message.recipients})`, current: current === "recipients" },
      { href: links.summary(message.message_id), label: "Summary", current: current === "summary" },
      { href: links.links(message.message_id), label: "Links", current: current === "links" },
      { href: links.providers(message.message_id), label: "Providers", current: current === "providers" },
    ]),
  ];
}

/** What a person needs to know about a recipient's status, beside the badge: the plain reason first. */
export function recipientDetails(recipient) {
  const lines = [];
  const status = recipient.status;
  const raw = [];
  if (recipient.bounce) {
    const reason = recipient.bounce.reason || [recipient.bounce.type, recipient.bounce.subtype].filter(Boolean).join(" / ");
    raw.push(h("span", { class: "reason bounce-reason" }, h("span", { class: "reason-label" }, "Bounce reason: "), reason || "not given"));
    const kind = [recipient.bounce.type, recipient.bounce.subtype].filter(Boolean).join(", ");
    if (kind && recipient.bounce.reason) raw.push(h("span", { class: "muted" }, kind));
  }
  if (recipient.dropped_reason) {
    raw.push(h("span", { class: "reason dropped-reason" }, h("span", { class: "reason-label" }, "Not sent: "), recipient.dropped_reason));
  }
  if (recipient.complaint) {
    raw.push(
      h(
        "span",
        { class: "reason complaint-reason" },
        "Marked as spam",
        recipient.complaint.feedback_type ? ` (${recipient.complaint.feedback_type})` : "",
        " ",
        time(recipient.complaint.at),
      ),
    );
  }
  const reasonLines = plainReason(recipient.reason, raw, { key: `raw-${recipient.recipient_id}` });
  if (recipient.engagement === "machine_only") {
    lines.push(
      h(
        "span",
        { class: "reason automatic-only" },
        "Opened automatically only (for example by Apple Mail Privacy Protection or a link scanner): not counted as opened",
      ),
    );
  }
  if (!lines.length && !raw.length && !recipient.reason) {
    if ((status === "opened" || status === "clicked") && recipient.last_opened_at) {
      lines.push(h("span", {}, "Last opened ", time(recipient.last_opened_at)));
    } else if (status === "delivered" && recipient.delivered_at) {
      lines.push(h("span", {}, "Delivered ", time(recipient.delivered_at)));
    } else if ((status === "sent" || status === "delayed") && recipient.sent_at) {
      lines.push(h("span", {}, "Accepted for sending ", time(recipient.sent_at)));
    } else if (status === "queued") {
      lines.push(h("span", { class: "muted" }, "Waiting to be sent"));
    }
  }
  return [reasonLines, lines.map((line) => h("span", { class: "detail-line" }, line)), followUp(recipient)].flat();
}

/** A customer's opens or clicks, with the automatic ones beside them when there are any. */
function countCell(count, machine, { what, className }) {
  const automatic = machine
    ? h("span", { class: "automatic-count", title: `${plural(machine, "automatic one", "automatic ones")}, not counted` }, `+${machine} automatic`)
    : null;
  if (!count) {
    return h("td", { class: `num ${className} muted` }, h("span", { "aria-hidden": "true" }, "\u2014"), srOnly(`not ${what} by the customer`), automatic);
  }
  return h("td", { class: `num ${className}` }, String(count), srOnly(count === 1 ? " time" : " times"), automatic);
}

function recipientRow(message, recipient) {
  return h(
    "tr",
    { dataset: { recipientId: recipient.recipient_id, email: recipient.email, status: recipient.status } },
    h(
      "th",
      { scope: "row", class: "recipient" },
      h(
        "a",
        { href: links.timeline(message.message_id, recipient.recipient_id), title: "Show this recipient's timeline" },
        recipient.name || recipient.email,
      ),
      recipient.name ? h("span", { class: "email" }, recipient.email) : null,
    ),
    h("td", { class: "customer" }, h("a", { href: links.customer(recipient.customer_id) }, recipient.customer_id)),
    h("td", { class: "status" }, statusBadge(recipient.status)),
    countCell(recipient.open_count, recipient.machine_open_count, { what: "opened", className: "opens" }),
    countCell(recipient.click_count, recipient.machine_click_count, { what: "clicked", className: "clicks" }),
    h("td", { class: "details" }, recipientDetails(recipient)),
  );
}

export async function recipientsView(ctx) {
  const messageId = ctx.params.id;
  const status = isStatus(ctx.query.get("status")) ? ctx.query.get("status") : "";
  ctx.loading("Loading recipients\u2026");
  const [message, page] = await Promise.all([
    ctx.api.getMessage(messageId),
    ctx.api.listRecipients(messageId, {
      status,
      cursor: ctx.pager.cursors[ctx.pager.index],
      limit: pageSize(ctx.query, 50),
    }),
  ]);
  if (!ctx.isCurrent()) return;
  const items = page.items ?? [];
  for (const recipient of items) recipientCache.set(`${messageId}/${recipient.recipient_id}`, recipient);

  const statusOptions = [
    { value: "", label: `All statuses (${message.recipients})` },
    ...STATUSES.map((s) => ({ value: s.id, label: `${s.label} (${message.counts?.[s.id] ?? 0})` })),
  ];
  const filterLink = (value) => withQuery(links.message(messageId), { status: value, limit: ctx.query.get("limit") });

  let content;
  if (!items.length) {
    content =
      ctx.pager.index > 0 || page.next_cursor
        ? emptyState("No recipients on this page.", "Use the page buttons to see the others.")
        : emptyState(status ? `No recipients are ${statusLabel(status).toLowerCase()}.` : "This message has no recipients.");
  } else {
    content = h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data recipients-table" },
        h("caption", {}, status ? `Recipients with status ${statusLabel(status)}` : "Recipients and the status of their email"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Recipient"),
            h("th", { scope: "col" }, "Customer"),
            h("th", { scope: "col" }, "Status"),
            h("th", { scope: "col", class: "num" }, "Opens"),
            h("th", { scope: "col", class: "num" }, "Clicks"),
            h("th", { scope: "col" }, "Details"),
          ),
        ),
        h("tbody", {}, items.map((recipient) => recipientRow(message, recipient))),
      ),
    );
  }

  ctx.show(
    messageHeader(message, "recipients", ctx.api),
    h(
      "section",
      { class: "tab-panel", "aria-labelledby": "recipients-heading" },
      h("h2", { id: "recipients-heading", class: "visually-hidden" }, "Recipients"),
      h(
        "form",
        { class: "filters", role: "search", "aria-label": "Filter recipients", onsubmit: (e) => e.preventDefault() },
        selectField({ label: "Status", name: "status", value: status, options: statusOptions, onChange: (v) => ctx.navigate(filterLink(v)) }),
      ),
      content,
      pagerNav({ pager: ctx.pager, nextCursor: page.next_cursor, itemLabel: "Recipients", onMove: ctx.rerender }),
      legend(),
    ),
  );
  ctx.done(message.subject || "Message", `${plural(items.length, "recipient", "recipients")} shown.`, {
    live: message.pending > 0 || message.recipients === 0 || items.some((recipient) => PENDING_STATUSES.includes(recipient.status)),
    what: "some recipients are pending",
  });
}

export async function summaryView(ctx) {
  ctx.loading("Loading the message\u2026");
  const message = await ctx.api.getMessage(ctx.params.id);
  if (!ctx.isCurrent()) return;
  const rows = STATUSES.map((status) =>
    h(
      "tr",
      { dataset: { status: status.id } },
      h("th", { scope: "row" }, statusBadge(status.id)),
      h("td", { class: "num" }, String(message.counts?.[status.id] ?? 0)),
      h("td", {}, status.text),
    ),
  );
  // Not statuses: how many were opened or clicked only automatically (part of the counts above).
  rows.push(
    ...TALLIES.map((tally) =>
      h(
        "tr",
        { class: "tally", dataset: { status: tally.id } },
        h("th", { scope: "row" }, tally.label),
        h("td", { class: "num" }, String(message.counts?.[tally.id] ?? 0)),
        h("td", {}, tally.text),
      ),
    ),
  );
  ctx.show(
    messageHeader(message, "summary", ctx.api),
    h(
      "section",
      { class: "tab-panel", "aria-label": "Summary" },
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data summary-table" },
          h("caption", {}, "Recipients per status"),
          h(
            "thead",
            {},
            h("tr", {}, h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Recipients"), h("th", { scope: "col" }, "Meaning")),
          ),
          h("tbody", {}, rows),
        ),
      ),
    ),
  );
  ctx.done(`${message.subject || "Message"}: summary`, null, { live: message.pending > 0 || message.recipients === 0, what: "some recipients are pending" });
}

/** The Links and Providers tabs: the message's header, then the panel of what the API keeps. */
async function insightView(ctx, current, load, panel, label) {
  ctx.loading(`Loading ${label.toLowerCase()}\u2026`);
  const [message, body] = await Promise.all([ctx.api.getMessage(ctx.params.id), load(ctx.params.id)]);
  if (!ctx.isCurrent()) return;
  ctx.show(messageHeader(message, current, ctx.api), h("section", { class: "tab-panel", "aria-label": label }, panel(body)));
  ctx.done(`${message.subject || "Message"}: ${label.toLowerCase()}`, null, { live: message.pending > 0 || message.recipients === 0, what: "some recipients are pending" });
}

export function linksView(ctx) {
  return insightView(ctx, "links", ctx.api.messageLinks, linksPanel, "Links");
}

export function providersView(ctx) {
  return insightView(ctx, "providers", ctx.api.messageProviders, providersPanel, "Providers");
}

// --- Timeline -------------------------------------------------------------------------------------

const EVENT_LABELS = {
  send: "Accepted for sending",
  delivery: "Delivered to the recipient's server",
  open: "Opened",
  click: "Clicked a link",
  bounce: "Bounced",
  complaint: "Marked as spam",
  reject: "Rejected by the sending service",
  rendering_failure: "Could not be rendered",
  delivery_delay: "Delivery delayed",
  subscription: "Subscription preferences changed",
};

/** The details of an event worth reading, as [label, value] pairs. */
export function eventDetails(event) {
  const d = event.details ?? {};
  const pairs = {
    bounce: [["Reason", d.diagnostic_code], ["Type", [d.bounce_type, d.bounce_subtype].filter(Boolean).join(" / ")]],
    delivery: [["Server response", d.smtp_response]],
    open: [["Device", d.user_agent]],
    click: [["Link", d.link], ["Device", d.user_agent]],
    complaint: [["Feedback", d.feedback_type]],
    delivery_delay: [["Why", d.delay_type], ["Server response", d.diagnostic_code]],
    reject: [["Reason", d.reason]],
    rendering_failure: [["Error", d.error_message]],
    subscription: [["Contact list", d.contact_list]],
  }[event.kind] ?? [];
  return pairs.filter(([, value]) => value !== null && value !== undefined && value !== "");
}

/** Who opened or clicked: the customer, or which machine, and why we think so. */
export function verdictBadge(event) {
  return h(
    "span",
    { class: `verdict verdict-${isAutomatic(event.verdict) ? "automatic" : "human"}`, dataset: { verdict: event.verdict } },
    verdictLabel(event.verdict),
    event.verdict_reason ? h("span", { class: "verdict-reason" }, ` \u2014 ${event.verdict_reason}`) : null,
  );
}

export function eventLabel(kind) {
  return EVENT_LABELS[kind] ?? String(kind);
}

/** An event's details; with a plain reason (bounces, complaints, rejects, failures) the raw ones one click away. */
function eventDetailsView(event) {
  const pairs = eventDetails(event);
  const list = pairs.length
    ? h("dl", { class: "timeline-details" }, pairs.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, String(value)))))
    : null;
  if (!event.reason?.summary) return list;
  return plainReason(event.reason, [list], { key: event.event_id ? `raw-event-${event.event_id}` : undefined });
}

export function eventList(events) {
  return h(
    "ol",
    { class: "timeline" },
    events.map((event) =>
      h(
        "li",
        { class: `timeline-item event-${event.kind}`, dataset: { kind: event.kind } },
        h("span", { class: "timeline-time" }, time(event.at)),
        h("span", { class: "timeline-label" }, eventLabel(event.kind)),
        event.verdict ? verdictBadge(event) : null,
        eventDetailsView(event),
      ),
    ),
  );
}

async function findRecipient(ctx, messageId, recipientId) {
  // A live update asks the API: the cached row is what the Recipients tab showed a while ago.
  const cached = ctx.refreshing ? null : recipientCache.get(`${messageId}/${recipientId}`);
  if (cached) return cached;
  let cursor = null;
  for (let pages = 0; pages < 5; pages += 1) {
    const page = await ctx.api.listRecipients(messageId, { cursor, limit: 200 });
    const found = (page.items ?? []).find((r) => r.recipient_id === recipientId);
    if (found || !page.next_cursor) return found ?? null;
    cursor = page.next_cursor;
  }
  return null;
}

export async function timelineView(ctx) {
  const { id: messageId, rid: recipientId } = ctx.params;
  ctx.loading("Loading the timeline\u2026");
  const [message, recipient] = await Promise.all([ctx.api.getMessage(messageId), findRecipient(ctx, messageId, recipientId)]);
  const events = [];
  let page = await ctx.api.listEvents(messageId, recipientId);
  events.push(...(page.items ?? []));
  if (!ctx.isCurrent()) return;

  const who = recipient ? recipient.name || recipient.email : recipientId;
  const list = h("div", { class: "timeline-wrap" });
  const more = h("button", { type: "button", class: "button secondary" }, "Show later events");
  const renderList = () => {
    list.replaceChildren(events.length ? eventList(events) : emptyState("No events yet.", "Events appear as the sending service reports them."));
    more.hidden = !page.next_cursor;
  };
  let loadedMore = false;
  more.addEventListener("click", async () => {
    loadedMore = true;
    more.disabled = true;
    try {
      page = await ctx.api.listEvents(messageId, recipientId, { cursor: page.next_cursor });
      events.push(...(page.items ?? []));
      renderList();
    } catch (error) {
      ctx.fail(error);
      return;
    } finally {
      more.disabled = false;
    }
  });
  renderList();

  ctx.show(
    breadcrumbs(
      { href: links.messages(), label: "Messages" },
      { href: links.message(messageId), label: message.subject || "(no subject)" },
      { label: who },
    ),
    pageHeading(`Timeline: ${who}`),
    recipient
      ? h(
          "dl",
          { class: "meta" },
          h("div", {}, h("dt", {}, "Email"), h("dd", {}, recipient.email)),
          h("div", {}, h("dt", {}, "Customer"), h("dd", {}, h("a", { href: links.customer(recipient.customer_id) }, recipient.customer_id))),
          h("div", {}, h("dt", {}, "Status"), h("dd", {}, statusBadge(recipient.status))),
          h("div", {}, h("dt", {}, "Opens"), h("dd", { class: "opens" }, String(recipient.open_count), recipient.machine_open_count ? ` (+${recipient.machine_open_count} automatic)` : "")),
          h("div", {}, h("dt", {}, "Clicks"), h("dd", {}, String(recipient.click_count), recipient.machine_click_count ? ` (+${recipient.machine_click_count} automatic)` : "")),
          recipientDetails(recipient).length ? h("div", { class: "meta-wide" }, h("dt", {}, "Details"), h("dd", {}, recipientDetails(recipient))) : null,
        )
      : null,
    h("h2", {}, "Events, oldest first"),
    list,
    more,
    legend(),
  );
  // Live while the recipient has no outcome yet, unless the reader has loaded later pages of events.
  ctx.done(`Timeline: ${who}`, `${plural(events.length, "event", "events")} shown.`, {
    live: () => PENDING_STATUSES.includes(recipient?.status) && !loadedMore,
    what: "this recipient is pending",
  });
}

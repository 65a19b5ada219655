// Invoice -> Logs tab, Customer -> Messages tab, the lookup form and the status guide.

import { h, nextId } from "../dom.js";
import { AUTOMATIC_ENGAGEMENT, isKind, kindLabel, PENDING_STATUSES, plural } from "../format.js";
import {
  breadcrumbs,
  emptyState,
  followUp,
  legend,
  legendList,
  links,
  pageHeading,
  pagerNav,
  pageSize,
  plainReason,
  statusBadge,
  tabs,
  time,
  tracked,
} from "./common.js";
import { eventDetails, eventLabel, verdictBadge } from "./message.js";
import { kindFilter, withQuery } from "./messages.js";

// Ids the API accepts in a path (tracker/models/api.py ID_PATTERN).
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const MAX_LOG_PAGES = 20;

// --- Invoice -> Logs ------------------------------------------------------------------------------

function fillMissing(target, source, keys) {
  for (const key of keys) {
    if ((target[key] === null || target[key] === undefined) && source[key] !== null && source[key] !== undefined) {
      target[key] = source[key];
    }
  }
}

/** Every page of an invoice's logs, merged: a page may split a message or a recipient (api.py). */
async function invoiceLogs(api, invoiceId) {
  const messages = new Map();
  let cursor = null;
  let pages = 0;
  do {
    const page = await api.invoiceLogs(invoiceId, { cursor });
    for (const item of page.items ?? []) {
      let message = messages.get(item.message_id);
      if (!message) {
        message = { ...item, recipients: new Map() };
        messages.set(item.message_id, message);
      }
      fillMissing(message, item, ["kind", "subject", "sent_at", "invoice_id", "payment_id", "tracking"]);
      for (const part of item.recipients ?? []) {
        let recipient = message.recipients.get(part.recipient_id);
        if (!recipient) {
          recipient = { ...part, events: [] };
          message.recipients.set(part.recipient_id, recipient);
        }
        fillMissing(recipient, part, [
          "email",
          "customer_id",
          "name",
          "status",
          "open_count",
          "click_count",
          "machine_open_count",
          "machine_click_count",
          "engagement",
          "bounce_reason",
          "dropped_reason",
          "reason",
          "resent_as",
          "dismissed",
        ]);
        const seen = new Set(recipient.events.map((event) => event.event_id));
        recipient.events.push(...(part.events ?? []).filter((event) => !seen.has(event.event_id)));
      }
    }
    cursor = page.next_cursor;
    pages += 1;
  } while (cursor && pages < MAX_LOG_PAGES);
  const list = [...messages.values()].map((message) => ({ ...message, recipients: [...message.recipients.values()] }));
  for (const message of list) {
    for (const recipient of message.recipients) recipient.events.sort((a, b) => String(a.at).localeCompare(String(b.at)));
  }
  return { messages: list, truncated: Boolean(cursor) };
}

/** The raw texts of a log or customer row (bounce_reason, dropped_reason), as SES and the send path gave them. */
function rawReasons(item) {
  return [
    item.bounce_reason ? h("span", { class: "reason bounce-reason" }, h("span", { class: "reason-label" }, "Bounce reason: "), item.bounce_reason) : null,
    item.dropped_reason ? h("span", { class: "reason dropped-reason" }, h("span", { class: "reason-label" }, "Not sent: "), item.dropped_reason) : null,
  ];
}

function logRecipient(message, recipient) {
  const who = recipient.name || recipient.email || recipient.recipient_id;
  const headingId = nextId("log-recipient");
  const facts = [];
  if (recipient.open_count) facts.push(h("span", { class: "opens" }, `Opened ${plural(recipient.open_count, "time", "times")}`));
  if (recipient.click_count) facts.push(h("span", {}, `Clicked ${plural(recipient.click_count, "time", "times")}`));
  if (recipient.engagement === "machine_only") {
    facts.push(h("span", { class: "reason automatic-only" }, "Opened automatically only, not by the customer"));
  }
  const reason = plainReason(recipient.reason, rawReasons(recipient), { key: `raw-log-${message.message_id}-${recipient.recipient_id}` });
  return h(
    "article",
    { class: "log-recipient", "aria-labelledby": headingId, dataset: { recipientId: recipient.recipient_id, status: recipient.status ?? "" } },
    h(
      "h3",
      { id: headingId },
      h("a", { href: links.timeline(message.message_id, recipient.recipient_id) }, who),
      recipient.name && recipient.email ? h("span", { class: "email" }, recipient.email) : null,
    ),
    h(
      "p",
      { class: "log-facts" },
      recipient.status ? statusBadge(recipient.status) : null,
      recipient.customer_id ? h("a", { href: links.customer(recipient.customer_id) }, `Customer ${recipient.customer_id}`) : null,
      facts,
    ),
    h("div", { class: "log-reason" }, reason, followUp(recipient)),
    recipient.events.length
      ? h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "data log-table" },
            h("caption", {}, `Delivery and open history of the email to ${who}`),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Event"), h("th", { scope: "col" }, "Details"))),
            h(
              "tbody",
              {},
              recipient.events.map((event) =>
                h(
                  "tr",
                  { dataset: { kind: event.kind } },
                  h("td", { class: "time" }, time(event.at)),
                  h("th", { scope: "row" }, eventLabel(event.kind)),
                  h(
                    "td",
                    {},
                    event.verdict ? verdictBadge(event) : null,
                    plainReason(
                      event.reason,
                      eventDetails(event).map(([label, value]) => `${label}: ${value}`),
                      { key: event.event_id ? `raw-log-event-${event.event_id}` : undefined },
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No events yet."),
  );
}

export async function invoiceView(ctx) {
  const invoiceId = ctx.params.id;
  ctx.loading(`Loading the logs of invoice ${invoiceId}\u2026`);
  const { messages, truncated } = await invoiceLogs(ctx.api, invoiceId);
  if (!ctx.isCurrent()) return;

  const sections = messages.map((message) => {
    const headingId = nextId("log-message");
    return h(
      "section",
      { class: "log-message", "aria-labelledby": headingId, dataset: { messageId: message.message_id } },
      h("h2", { id: headingId }, h("a", { href: links.message(message.message_id) }, message.subject || "(no subject)")),
      h("p", { class: "muted" }, message.kind ? `${kindLabel(message.kind)} \u00b7 sent ` : "Sent ", time(message.sent_at)),
      tracked(message)
        ? null
        : h(
            "p",
            { class: "note not-tracked", dataset: { tracking: message.tracking } },
            message.tracking === "off" ? "Opens and clicks not tracked for this email." : "Opens not tracked (a text-only email).",
          ),
      message.recipients.map((recipient) => logRecipient(message, recipient)),
    );
  });

  ctx.show(
    breadcrumbs({ href: links.lookup(), label: "Find" }, { label: `Invoice ${invoiceId}` }),
    pageHeading(`Invoice ${invoiceId}`),
    tabs("Invoice sections", [{ href: links.invoice(invoiceId), label: "Logs", current: true }]),
    h(
      "section",
      { class: "tab-panel", "aria-label": "Logs" },
      h("p", { class: "intro" }, "Whether the emails that carried this invoice were delivered and opened, oldest first."),
      sections.length ? sections : emptyState(`No emails have carried invoice ${invoiceId} yet.`),
      truncated ? h("p", { class: "note" }, "Only the first part of a very long history is shown.") : null,
      legend(),
    ),
  );
  ctx.done(`Invoice ${invoiceId}`, `${plural(messages.length, "message", "messages")} carried this invoice.`, {
    live: messages.some((message) => message.recipients.some((recipient) => PENDING_STATUSES.includes(recipient.status))),
    what: "an email is pending",
  });
}

// --- Customer -> Messages -------------------------------------------------------------------------

function customerRow(item) {
  return h(
    "tr",
    { dataset: { messageId: item.message_id, status: item.status } },
    h("td", { class: "sent" }, time(item.sent_at)),
    h("td", { class: "kind" }, kindLabel(item.kind)),
    h("th", { scope: "row", class: "subject" }, h("a", { href: links.message(item.message_id) }, item.subject || "(no subject)")),
    h(
      "td",
      { class: "document" },
      item.invoice_id
        ? h("a", { href: links.invoice(item.invoice_id) }, item.invoice_id)
        : item.payment_id
          ? item.payment_id
          : h("span", { class: "muted" }, "\u2014"),
    ),
    h("td", { class: "status" }, statusBadge(item.status)),
    h(
      "td",
      { class: "num opens" },
      !tracked(item)
        ? h("span", { class: "muted not-tracked", dataset: { tracking: item.tracking } }, "not tracked")
        : item.open_count
          ? String(item.open_count)
          : h("span", { class: "muted" }, "\u2014"),
      item.machine_open_count ? h("span", { class: "automatic-count" }, `+${item.machine_open_count} automatic`) : null,
    ),
    h(
      "td",
      { class: "details" },
      plainReason(item.reason, rawReasons(item), { key: `raw-customer-${item.message_id}-${item.recipient_id}` }),
      followUp(item),
      h("a", { href: links.timeline(item.message_id, item.recipient_id), class: "detail-line" }, "Timeline"),
    ),
  );
}

export async function customerView(ctx) {
  const customerId = ctx.params.id;
  const kind = isKind(ctx.query.get("kind")) ? ctx.query.get("kind") : "";
  ctx.loading(`Loading the messages of customer ${customerId}\u2026`);
  const page = await ctx.api.customerMessages(customerId, {
    kind,
    cursor: ctx.pager.cursors[ctx.pager.index],
    limit: pageSize(ctx.query, 20),
  });
  if (!ctx.isCurrent()) return;
  const items = page.items ?? [];
  const email = items[0]?.email;
  const filterLink = (value) => withQuery(links.customer(customerId), { kind: value, limit: ctx.query.get("limit") });

  const content = items.length
    ? h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "data customer-table" },
          h("caption", {}, `Emails, invoices and payment receipts sent to customer ${customerId}, newest first`),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Sent"),
              h("th", { scope: "col" }, "Kind"),
              h("th", { scope: "col" }, "Subject"),
              h("th", { scope: "col" }, "Invoice / payment"),
              h("th", { scope: "col" }, "Status"),
              h("th", { scope: "col", class: "num" }, "Opens"),
              h("th", { scope: "col" }, "Details"),
            ),
          ),
          h("tbody", {}, items.map(customerRow)),
        ),
      )
    : ctx.pager.index > 0 || page.next_cursor
      ? emptyState("No messages on this page.", "Use the page buttons to see the others.")
      : emptyState(
          kind ? `No ${kindLabel(kind).toLowerCase()} messages were sent to this customer.` : "No messages were sent to this customer yet.",
        );

  ctx.show(
    breadcrumbs({ href: links.lookup(), label: "Find" }, { label: `Customer ${customerId}` }),
    pageHeading(`Customer ${customerId}`, email ? h("span", { class: "subtitle" }, email) : null),
    tabs("Customer sections", [{ href: links.customer(customerId), label: "Messages", current: true }]),
    h(
      "section",
      { class: "tab-panel", "aria-label": "Messages" },
      h(
        "form",
        { class: "filters", role: "search", "aria-label": "Filter the customer's messages", onsubmit: (e) => e.preventDefault() },
        kindFilter({ value: kind, onChange: (value) => ctx.navigate(filterLink(value)) }),
      ),
      content,
      pagerNav({ pager: ctx.pager, nextCursor: page.next_cursor, itemLabel: "Customer messages", onMove: ctx.rerender }),
      legend(),
    ),
  );
  ctx.done(`Customer ${customerId}`, `${plural(items.length, "message", "messages")} shown.`, {
    live: items.some((item) => PENDING_STATUSES.includes(item.status)),
    what: "an email is pending",
  });
}

// --- Lookup and status guide ----------------------------------------------------------------------

function lookupForm({ legendText, label, hint, placeholder, onGo, name }) {
  const inputId = nextId(name);
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const input = h("input", {
    id: inputId,
    name,
    type: "text",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    placeholder,
    "aria-describedby": hintId,
    dataset: { focusKey: name },
  });
  const error = h("p", { class: "field-error", id: errorId, hidden: true });
  const form = h(
    "form",
    { class: "lookup-form", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, legendText),
      h("div", { class: "field" }, h("label", { for: inputId }, label), h("p", { class: "hint", id: hintId }, hint), input, error),
      h("button", { type: "submit", class: "button" }, "Show"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!ID_PATTERN.test(value)) {
      error.textContent = value
        ? "Use only letters, digits and . _ : - (up to 128 characters)."
        : `Enter ${label.toLowerCase()}.`;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${hintId} ${errorId}`);
      input.focus();
      return;
    }
    onGo(value);
  });
  return form;
}

export function lookupView(ctx) {
  ctx.show(
    pageHeading("Find an invoice or a customer"),
    h("p", { class: "intro" }, "Open an invoice's delivery logs, or everything sent to one customer."),
    h(
      "div",
      { class: "lookup" },
      lookupForm({
        legendText: "Invoice \u2192 Logs",
        label: "Invoice id",
        hint: "For example INV-1001.",
        placeholder: "INV-1001",
        name: "invoice-id",
        onGo: (value) => ctx.navigate(links.invoice(value)),
      }),
      lookupForm({
        legendText: "Customer \u2192 Messages",
        label: "Customer id",
        hint: "For example cust-ana.",
        placeholder: "cust-ana",
        name: "customer-id",
        onGo: (value) => ctx.navigate(links.customer(value)),
      }),
    ),
  );
  ctx.done("Find");
}

export function statusesView(ctx) {
  ctx.show(
    pageHeading("Email statuses explained"),
    h("p", { class: "intro" }, "What each recipient's status means. When several things happened to one email, the status shows the most telling one: Complaint, then Bounced, Clicked, Opened, Delivered, Delayed, Sent and Queued."),
    legendList(),
    h("h2", { id: "automatic" }, "Automatic opens and clicks"),
    h(
      "dl",
      { class: "legend-list automatic-list" },
      AUTOMATIC_ENGAGEMENT.map((item) => [h("dt", { dataset: { verdict: item.id } }, item.title), h("dd", {}, item.text)]),
    ),
  );
  ctx.done("Email statuses");
}

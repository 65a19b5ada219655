// Needs attention: the invoices and receipts that did not reach the customer (or are stuck), each
// recipient's plain reason and what to do, and the two ways out: resend (to a corrected address)
// or dismiss.

import { h, nextId, srOnly } from "../dom.js";
import { kindLabel, plural } from "../format.js";
import { emptyState, links, pageHeading, pagerNav, pageSize, plainReason, selectField, statusBadge, time } from "./common.js";
import { withQuery } from "./messages.js";

const KIND_OPTIONS = [
  { value: "", label: "Invoices and payment receipts" },
  { value: "invoice", label: "Invoices" },
  { value: "receipt", label: "Payment receipts" },
  { value: "email", label: "Emails" },
];
const PROBLEMS = {
  failed: "Not delivered",
  stuck: "No delivery confirmation yet",
};
// What a browser's type=email accepts, roughly: the API has the last word.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// What the last action did, shown at the top after the list is fetched again (the row has left it).
let flash = null;
// A row's own message (an address the API refused) survives the list's live updates.
const rowNotes = new Map();
// Recipients resent or dismissed from this tab: the queue may list them for a moment longer (it
// is updated from the table's stream), and a row the owner has dealt with must not come back.
const handled = new Set();

/** One key per click: a retried request with the same key sends nothing new (POST .../resend). */
function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The document an item is about, as a person names it. */
export function documentName(item) {
  if (item.invoice_id) return `Invoice ${item.invoice_id}`;
  if (item.payment_id) return `Payment receipt ${item.payment_id}`;
  return item.subject || "(no subject)";
}

function documentHeading(item, headingId) {
  const name = documentName(item);
  return h(
    "h2",
    { id: headingId, class: "attention-document" },
    item.invoice_id ? h("a", { href: links.invoice(item.invoice_id) }, name) : name,
  );
}

/** A stuck recipient has no reason from SES: say what we know. */
function stuckReason() {
  return {
    code: "no_delivery_confirmation",
    summary: "The customer's email provider has not confirmed delivery.",
    advice: "If the customer has not received it, check the address with them and resend.",
  };
}

/** A row's message: progress, or why an action did not work (kept across live updates). */
function setNote(element, note) {
  element.textContent = note?.text ?? "";
  element.classList.toggle("action-error", Boolean(note?.error));
}

function noteView(key) {
  const element = h("p", { class: "action-note", role: "status" });
  setNote(element, rowNotes.get(key));
  return element;
}

function actionError(error) {
  if (error?.code === "address_suppressed") {
    return `Not sent: the address is suppressed, because earlier emails to it bounced or were reported as spam. Correct the address, or lift the suppression first. (${error.message})`;
  }
  if (error?.code === "already_resent") return "This email was already resent. The list is updated.";
  if (error?.code === "content_expired") {
    return "Not sent: this email is too old to resend, its content is no longer kept. Send a new one instead.";
  }
  if (error?.status === 404) return "This email no longer exists. The list is updated.";
  return `It did not work: ${error?.message ?? error}. Try again.`;
}

function recipientBlock(ctx, item, recipient) {
  const key = `${item.message_id}/${recipient.recipient_id}`;
  const who = recipient.name || recipient.email;
  const inputId = nextId("resend-email");
  const hintId = `${inputId}-hint`;
  const errorId = `${inputId}-error`;
  const input = h("input", {
    id: inputId,
    type: "email",
    name: "email",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    value: recipient.email ?? "",
    "aria-describedby": hintId,
    dataset: { focusKey: `resend-email-${key}` },
  });
  const fieldError = h("p", { class: "field-error", id: errorId, hidden: true });
  const resend = h(
    "button",
    { type: "submit", class: "button", dataset: { focusKey: `resend-${key}` } },
    "Resend",
    srOnly(` ${documentName(item)} to ${who}`),
  );
  const dismiss = h(
    "button",
    { type: "button", class: "button secondary", dataset: { focusKey: `dismiss-${key}` } },
    "Dismiss",
    srOnly(` ${documentName(item)} to ${who}`),
  );
  const note = noteView(key);
  const controls = [input, resend, dismiss];

  async function act(action, describe) {
    const release = ctx.hold(); // no live update replaces the row under the reader's hands
    for (const control of controls) control.disabled = true;
    setNote(note, { text: action === "resend" ? "Resending\u2026" : "Dismissing\u2026" });
    try {
      const answer = await (action === "resend"
        ? ctx.api.resend(item.message_id, recipient.recipient_id, {
            email: describe.email.toLowerCase() === String(recipient.email).toLowerCase() ? undefined : describe.email,
            idempotencyKey: idempotencyKey(),
          })
        : ctx.api.dismiss(item.message_id, recipient.recipient_id));
      rowNotes.delete(key);
      handled.add(key);
      flash = describe.done(answer);
    } catch (error) {
      if (error?.status === 401) throw error;
      rowNotes.delete(key);
      if (error?.code === "already_resent" || error?.status === 404) {
        handled.add(key);
        flash = { text: actionError(error) }; // nothing more to do on this row
      } else {
        rowNotes.set(key, { text: actionError(error), error: true });
        release();
        for (const control of controls) control.disabled = false;
        setNote(note, rowNotes.get(key));
        input.focus();
        return;
      }
    }
    release();
    ctx.attentionChanged();
    await ctx.rerender();
    document.getElementById("attention-flash")?.focus();
  }

  const form = h(
    "form",
    { class: "resend-form", novalidate: true, "aria-label": `Resend or dismiss: ${who}` },
    h(
      "div",
      { class: "field" },
      h("label", { for: inputId }, "Send again to"),
      h("p", { class: "hint", id: hintId }, "Correct the address if it was wrong."),
      input,
      fieldError,
    ),
    h("div", { class: "actions" }, resend, dismiss),
    note,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = input.value.trim();
    if (!EMAIL_PATTERN.test(email)) {
      fieldError.textContent = email ? "Enter an email address such as name@example.com." : "Enter the email address to send to.";
      fieldError.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${hintId} ${errorId}`);
      input.focus();
      return;
    }
    act("resend", {
      email,
      done: (sent) => ({
        text: `${documentName(item)} was sent again to ${email}.`,
        messageId: sent?.message_id,
        invoiceId: item.invoice_id,
      }),
    }).catch(ctx.fail);
  });
  dismiss.addEventListener("click", () => {
    act("dismiss", { done: () => ({ text: `${documentName(item)} to ${who} was dismissed without resending.` }) }).catch(ctx.fail);
  });

  const reason = recipient.reason ?? (item.problem === "stuck" ? stuckReason() : null);
  return h(
    "section",
    { class: "attention-recipient", "aria-label": who, dataset: { recipientId: recipient.recipient_id, status: recipient.status ?? "" } },
    h(
      "p",
      { class: "log-facts" },
      h("span", { class: "attention-who" }, h("strong", {}, who), recipient.name ? h("span", { class: "email" }, recipient.email) : null),
      statusBadge(recipient.status),
      recipient.customer_id ? h("a", { href: links.customer(recipient.customer_id) }, `Customer ${recipient.customer_id}`) : null,
      recipient.since ? h("span", { class: "muted" }, "since ", time(recipient.since)) : null,
    ),
    plainReason(reason, [recipient.raw_reason], { key: `raw-attention-${key}` }),
    form,
  );
}

function itemView(ctx, item) {
  const headingId = nextId("attention-item");
  return h(
    "article",
    { class: "attention-item", "aria-labelledby": headingId, dataset: { messageId: item.message_id, problem: item.problem ?? "" } },
    h(
      "div",
      { class: "attention-head" },
      documentHeading(item, headingId),
      h("span", { class: `problem problem-${item.problem ?? "unknown"}` }, PROBLEMS[item.problem] ?? String(item.problem ?? "")),
    ),
    h(
      "p",
      { class: "muted attention-meta" },
      kindLabel(item.kind),
      " \u00b7 ",
      h("a", { href: links.message(item.message_id) }, item.subject || "(no subject)"),
      " \u00b7 sent ",
      time(item.created_at),
      item.attention_at ? [" \u00b7 needs attention since ", time(item.attention_at)] : null,
    ),
    (item.recipients ?? []).map((recipient) => recipientBlock(ctx, item, recipient)),
    // A large message lists none of its recipients here (contract-16: more than 20): its Recipients tab does.
    item.omitted_recipients
      ? h(
          "p",
          { class: "note" },
          item.recipients?.length
            ? `${plural(item.omitted_recipients, "more recipient", "more recipients")} of this email also ${item.omitted_recipients === 1 ? "needs" : "need"} attention:`
            : `${plural(item.omitted_recipients, "recipient", "recipients")} of this email ${item.omitted_recipients === 1 ? "needs" : "need"} attention:`,
          h("a", { href: links.message(item.message_id) }, "see them on the message's Recipients tab"),
        )
      : null,
  );
}

/** What the last action did: shown until the reader leaves the page (live updates keep it). */
function flashView(ctx) {
  if (flash?.shown && !ctx.refreshing) flash = null;
  if (!flash) return null;
  flash.shown = true;
  return h(
    "div",
    { class: "flash", id: "attention-flash", role: "status", tabindex: "-1" },
    h("p", {}, flash.text),
    flash.invoiceId
      ? h("p", {}, h("a", { href: links.invoice(flash.invoiceId) }, `See the logs of invoice ${flash.invoiceId}`), " for the new send.")
      : flash.messageId
        ? h("p", {}, h("a", { href: links.message(flash.messageId) }, "See the new email"), ".")
        : null,
  );
}

export async function attentionView(ctx) {
  const kind = KIND_OPTIONS.some((option) => option.value === ctx.query.get("kind")) ? ctx.query.get("kind") : "";
  ctx.loading("Loading what needs attention\u2026");
  const page = await ctx.api.attention({ kind, cursor: ctx.pager.cursors[ctx.pager.index], limit: pageSize(ctx.query, 20) });
  if (!ctx.isCurrent()) return;
  const items = (page.items ?? [])
    .map((item) => ({ ...item, recipients: (item.recipients ?? []).filter((r) => !handled.has(`${item.message_id}/${r.recipient_id}`)) }))
    .filter((item) => item.recipients.length || item.omitted_recipients);
  const filterLink = (value) => withQuery("#/attention", { kind: value, limit: ctx.query.get("limit") });

  const content = items.length
    ? h("div", { class: "attention-list" }, items.map((item) => itemView(ctx, item)))
    : ctx.pager.index > 0 || page.next_cursor
      ? emptyState("Nothing on this page.", "Use the page buttons to see the others.")
      : emptyState("Nothing needs your attention.", "Every document was delivered, or is still on its way.");

  ctx.show(
    pageHeading("Needs attention"),
    h(
      "p",
      { class: "intro" },
      "Documents that did not reach the customer, or whose delivery has not been confirmed a day after sending. ",
      "Correct the address and resend, or dismiss what you have dealt with another way.",
    ),
    flashView(ctx),
    h(
      "form",
      { class: "filters", role: "search", "aria-label": "Filter what needs attention", onsubmit: (e) => e.preventDefault() },
      selectField({ label: "Kind", name: "kind", value: kind, options: KIND_OPTIONS, onChange: (value) => ctx.navigate(filterLink(value)) }),
    ),
    content,
    pagerNav({ pager: ctx.pager, nextCursor: page.next_cursor, itemLabel: "Needs attention", onMove: ctx.rerender }),
  );
  ctx.done("Needs attention", items.length ? `${plural(items.length, "document", "documents")} shown.` : "Nothing needs attention.", {
    live: true,
    what: "this list is open",
  });
}

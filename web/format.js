// Statuses, kinds, rates and times as a person reads them.

// The explanations of the help article ("Email Statuses Explained"), and ours for the statuses it
// does not list. Order: the article's, then the ones without an outcome yet, then send failures.
export const STATUSES = [
  {
    id: "delivered",
    label: "Delivered",
    text: "The email has been accepted by the recipient's server and delivered to their inbox, but has not yet been opened.",
  },
  {
    id: "opened",
    label: "Opened",
    text: "The email was delivered and has been opened by the customer. Automatic opens (Apple Mail Privacy Protection, prefetching) do not count.",
  },
  {
    id: "clicked",
    label: "Clicked",
    text: "The customer clicked on links or attachments within the email, confirming it was opened and interacted with. Clicks by link scanners do not count.",
  },
  {
    id: "bounced",
    label: "Bounced",
    text: "The email was rejected by the recipient's server and returned to the sender due to reasons like an invalid email address or a full inbox.",
  },
  {
    id: "dropped",
    label: "Dropped",
    text: "The email was not sent because it had previously bounced multiple times to the same address (or the customer had marked an earlier email as spam).",
  },
  {
    id: "complaint",
    label: "Complaint",
    text: "The email was marked as spam by the recipient. This could be either due to them pressing \u201cThis is Spam\u201d or an automated filter blocking the message. If this happens, contact our support team for assistance.",
  },
  {
    id: "delayed",
    label: "Delayed",
    text: "Delivery is temporarily delayed, for example because the recipient's server is busy; it is being retried.",
  },
  {
    id: "sent",
    label: "Sent",
    text: "The email was accepted for sending; the recipient's server has not confirmed delivery yet.",
  },
  {
    id: "queued",
    label: "Queued",
    text: "The email is waiting to be handed to the sending service.",
  },
  {
    id: "rejected",
    label: "Rejected",
    text: "The sending service refused the email (for example because it contained a virus), so it was not sent.",
  },
  {
    id: "failed",
    label: "Failed",
    text: "The email could not be sent because it could not be put together (a rendering failure).",
  },
];

const STATUS_BY_ID = new Map(STATUSES.map((status) => [status.id, status]));

// Recipients without an outcome yet: their message's rates are provisional.
export const PENDING_STATUSES = ["queued", "sent", "delayed"];
const DELIVERED_STATUSES = ["delivered", "opened", "clicked", "complaint"];
const OPENED_STATUSES = ["opened", "clicked"];

export function statusLabel(id) {
  return STATUS_BY_ID.get(id)?.label ?? (id ? String(id) : "Unknown");
}

export function statusText(id) {
  return STATUS_BY_ID.get(id)?.text ?? "";
}

export const KINDS = [
  { id: "email", label: "Email", plural: "Emails" },
  { id: "invoice", label: "Invoice", plural: "Invoices" },
  { id: "receipt", label: "Payment receipt", plural: "Payment receipts" },
];

export function kindLabel(id) {
  return KINDS.find((kind) => kind.id === id)?.label ?? (id ? String(id) : "");
}

export function isKind(id) {
  return KINDS.some((kind) => kind.id === id);
}

export function isStatus(id) {
  return STATUS_BY_ID.has(id);
}

/**
 * A rate (a fraction from 0 to 1) as a percentage with at most one decimal, rounded half up:
 * 0.5 -> "50%", 1/3 -> "33.3%". null (no denominator) -> null.
 */
export function percent(rate) {
  if (rate === null || rate === undefined || Number.isNaN(Number(rate))) return null;
  const text = (Number(rate) * 100).toFixed(1).replace(/\.0$/, "");
  return `${text}%`;
}

function sum(counts, ids) {
  return ids.reduce((total, id) => total + (Number(counts?.[id]) || 0), 0);
}

/** The raw numbers behind a message's rates (docs/domain.md: the same definitions as the API). */
export function rateParts(message) {
  const counts = message.counts ?? {};
  const delivered = sum(counts, DELIVERED_STATUSES);
  const opened = sum(counts, OPENED_STATUSES);
  const clicked = Number(counts.clicked) || 0;
  const notDropped = (message.recipients ?? 0) - (Number(counts.dropped) || 0);
  return {
    delivery: { numerator: delivered, denominator: message.recipients ?? 0 },
    open: { numerator: opened, denominator: delivered },
    openAll: { numerator: opened + (Number(counts.machine_opened) || 0), denominator: delivered },
    click: { numerator: clicked, denominator: delivered },
    clickAll: { numerator: clicked + (Number(counts.machine_clicked) || 0), denominator: delivered },
    bounce: { numerator: Number(counts.bounced) || 0, denominator: notDropped },
    complaint: { numerator: Number(counts.complaint) || 0, denominator: delivered },
  };
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** An ISO-8601 time as the reader's local date and time. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

/** How long ago, in ms, as the "updated …" line says it: "just now", "5 s ago", "3 min ago". */
export function ago(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 3) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// What a message counts besides the statuses (docs/engagement.md): part of the delivered ones.
export const TALLIES = [
  {
    id: "machine_opened",
    label: "Opened automatically only",
    text: "Delivered recipients whose email was opened only automatically (Apple Mail Privacy Protection, prefetching), not by the customer. Counted as delivered, not opened.",
  },
  {
    id: "machine_clicked",
    label: "Clicked by a link scanner only",
    text: "Recipients whose links were followed only by a security scanner, not by the customer.",
  },
];

// Who opened or clicked (docs/engagement.md): the customer, or a machine on their behalf.
export const VERDICTS = {
  human: { label: "Customer", automatic: false },
  privacy_proxy: { label: "Apple Mail Privacy Protection", automatic: true },
  prefetch: { label: "Automatic fetch", automatic: true },
  scanner: { label: "Link scanner", automatic: true },
};

export function verdictLabel(id) {
  return VERDICTS[id]?.label ?? (id ? String(id) : "");
}

export function isAutomatic(id) {
  return VERDICTS[id]?.automatic ?? false;
}

// The statuses page's words on automatic opens and clicks.
export const AUTOMATIC_ENGAGEMENT = [
  {
    id: "privacy_proxy",
    title: "Apple Mail Privacy Protection",
    text: "Apple Mail (on iPhone, iPad and Mac) downloads every email's images as soon as the email arrives, whether or not the customer reads it. To the sending service that looks like an open. We recognise these automatic opens and do not count them as opened.",
  },
  {
    id: "prefetch",
    title: "Automatic fetches",
    text: "Some email providers and company mail systems fetch images the moment an email arrives. Opens that happen within seconds of delivery are counted as automatic.",
  },
  {
    id: "scanner",
    title: "Link scanners",
    text: "Company security systems (Microsoft Defender, Mimecast, Proofpoint, Barracuda and others) follow every link in an email seconds after it arrives, to check it is safe. Those clicks are not the customer's and do not count as clicked.",
  },
  {
    id: "human",
    title: "What still counts",
    text: "Gmail and Yahoo show images through their own servers, but only when the customer opens the email: those opens count. The Open Rate counts customers who opened; \u201cincl. automatic opens\u201d beside it counts every open the sending service reported.",
  },
];

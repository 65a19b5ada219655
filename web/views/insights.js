// A message's Links tab (each clicked address: customers, clicks, automatic clicks) and Providers
// tab (Gmail, Microsoft, Yahoo, Apple, other: delivered, opened, bounced), from the numbers the
// API keeps per message (GET /messages/{id}/links and /providers).

import { h } from "../dom.js";
import { emptyState } from "./common.js";

const PROVIDER_LABELS = { gmail: "Gmail", microsoft: "Microsoft (Outlook, Hotmail)", yahoo: "Yahoo (and AOL)", apple: "Apple (iCloud)", other: "Other" };

function rate(value) {
  return value === null || value === undefined ? "\u2014" : `${(value * 100).toFixed(1)}%`;
}

function table(caption, headings, rows, className) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: `data ${className}` },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headings.map(([label, num]) => h("th", { scope: "col", class: num ? "num" : null }, label)))),
      h("tbody", {}, rows),
    ),
  );
}

// SES link tags (the anchor's ses:tags) as "name: value" pairs.
function tagText(tags) {
  const pairs = Object.entries(tags ?? {}).flatMap(([name, values]) => values.map((value) => `${name}: ${value}`));
  return pairs.length ? pairs.join(", ") : "\u2014";
}

export function linksPanel(body) {
  const items = body.items ?? [];
  if (!items.length) return emptyState("Nobody has clicked a link in this message yet.");
  const rows = items.map((link) =>
    h(
      "tr",
      { dataset: { linkId: link.link_id } },
      h("th", { scope: "row", class: "link-url" }, link.url ? h("span", { class: "url", title: link.url }, link.url) : "Other links (summed)"),
      h("td", { class: "tags" }, tagText(link.tags)),
      h("td", { class: "num customers" }, String(link.customers)),
      h("td", { class: "num clicks" }, String(link.clicks)),
      h("td", { class: "num automatic" }, String(link.automatic_clicks)),
    ),
  );
  return [
    table("Clicked links, most customers first", [["Link"], ["Tags"], ["Customers", true], ["Clicks", true], ["Automatic clicks", true]], rows, "links-table"),
    h("p", { class: "note" }, "Automatic clicks are link scanners and prefetchers checking the link; they are not counted as customers."),
  ];
}

export function providersPanel(body) {
  const rows = (body.items ?? []).map((p) =>
    h(
      "tr",
      { dataset: { provider: p.provider } },
      h("th", { scope: "row" }, PROVIDER_LABELS[p.provider] ?? p.provider),
      h("td", { class: "num recipients" }, String(p.recipients)),
      h("td", { class: "num delivered" }, String(p.delivered)),
      h("td", { class: "num delivery-rate" }, rate(p.delivery_rate)),
      h("td", { class: "num opened" }, String(p.opened)),
      h("td", { class: "num open-rate" }, rate(p.open_rate)),
      h("td", { class: "num bounced" }, String(p.bounced)),
      h("td", { class: "num bounce-rate" }, rate(p.bounce_rate)),
    ),
  );
  return [
    table(
      "Recipients per mailbox provider",
      [["Provider"], ["Recipients", true], ["Delivered", true], ["Delivery rate", true], ["Opened", true], ["Open rate", true], ["Bounced", true], ["Bounce rate", true]],
      rows,
      "providers-table",
    ),
    h("p", { class: "note" }, "The provider is told by the address's domain (gmail.com, outlook.com, yahoo.com, icloud.com...); company addresses are under Other."),
  ];
}

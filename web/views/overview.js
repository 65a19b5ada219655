// Overview: how the account's emails are doing lately (GET /stats, a plain SVG chart with the
// numbers in a table beside it) and its deliverability health against SES's limits
// (GET /stats/health, each rate drawn on a scale with the thresholds marked).

import { h } from "../dom.js";
import { KINDS, percent, plural } from "../format.js";
import { pageHeading, selectField } from "./common.js";
import { withQuery } from "./messages.js";

const SVG = "http://www.w3.org/2000/svg";

const RANGES = [
  { value: "30d", label: "Last 30 days, by day", granularity: "day", days: 30 },
  { value: "7d", label: "Last 7 days, by day", granularity: "day", days: 7 },
  { value: "72h", label: "Last 72 hours, by hour", granularity: "hour" },
];
const KIND_OPTIONS = [{ value: "", label: "All kinds" }, ...KINDS.map((kind) => ({ value: kind.id, label: kind.plural }))];

// The series drawn, in the chart's and the table's order (bounces: hard and soft together).
export const SERIES = [
  { id: "sent", label: "Sent", value: (c) => c.sent },
  { id: "delivered", label: "Delivered", value: (c) => c.delivered },
  { id: "opened", label: "Opened by the customer", value: (c) => c.opened },
  { id: "clicked", label: "Clicked", value: (c) => c.clicked },
  { id: "bounced", label: "Bounced", value: (c) => c.bounced_hard + c.bounced_soft },
  { id: "complaint", label: "Marked as spam", value: (c) => c.complaint },
];

const STATE_TEXT = {
  ok: "Healthy",
  warning: "Warning",
  at_risk: "At risk",
};
const STATE_EXPLANATION = {
  ok: "Your bounce and complaint rates are below the levels at which Amazon SES reviews an account.",
  warning:
    "A rate is above the level at which Amazon SES puts an account under review. Check the addresses that bounce and stop sending to people who did not ask for your emails.",
  at_risk:
    "A rate is at the level at which Amazon SES may pause all sending from this account. Act now: remove bad addresses and stop the sending that causes complaints.",
};

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) element.append(child instanceof Node ? child : String(child));
  return element;
}

function bucketLabel(start, granularity) {
  const date = new Date(start);
  return granularity === "hour"
    ? new Intl.DateTimeFormat(undefined, { weekday: "short", hour: "numeric" }).format(date)
    : new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" }).format(date);
}

/** The series as lines over the window's buckets; every point carries its number (data-value). */
function chart(report) {
  const width = 720;
  const height = 260;
  const pad = { left: 44, right: 12, top: 12, bottom: 32 };
  const points = report.series;
  const values = points.flatMap((point) => SERIES.map((s) => s.value(point.counts)));
  const top = Math.max(1, ...values);
  const step = points.length > 1 ? (width - pad.left - pad.right) / (points.length - 1) : 0;
  const x = (index) => pad.left + index * step;
  const y = (value) => pad.top + (height - pad.top - pad.bottom) * (1 - value / top);
  const grid = [0, 0.5, 1].map((share) => {
    const value = Math.round(top * share);
    return svg(
      "g",
      { class: "chart-grid" },
      svg("line", { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value) }),
      svg("text", { x: pad.left - 6, y: y(value) + 4, "text-anchor": "end" }, String(value)),
    );
  });
  const every = Math.max(1, Math.ceil(points.length / 8));
  const ticks = points
    .map((point, index) =>
      index % every === 0
        ? svg("text", { x: x(index), y: height - 10, "text-anchor": "middle", class: "chart-tick" }, bucketLabel(point.start, report.granularity))
        : null,
    )
    .filter(Boolean);
  const lines = SERIES.map((series) => {
    const coords = points.map((point, index) => `${x(index).toFixed(1)},${y(series.value(point.counts)).toFixed(1)}`);
    return svg(
      "g",
      { class: `chart-series series-${series.id}`, "data-series": series.id },
      svg("polyline", { points: coords.join(" "), fill: "none" }),
      points.map((point, index) =>
        svg(
          "circle",
          { cx: x(index), cy: y(series.value(point.counts)), r: 2.5, "data-start": point.start, "data-value": series.value(point.counts) },
          svg("title", {}, `${series.label}, ${bucketLabel(point.start, report.granularity)}: ${series.value(point.counts)}`),
        ),
      ),
    );
  });
  return h(
    "figure",
    { class: "chart" },
    svg(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "overview-chart-caption", class: "chart-svg", id: "overview-chart" },
      grid,
      ticks,
      lines,
    ),
    h(
      "figcaption",
      { id: "overview-chart-caption" },
      h("span", {}, `Recipients per ${report.granularity === "hour" ? "hour" : "day"}, each counted once when it happened: `),
      h(
        "ul",
        { class: "chart-legend" },
        SERIES.map((series) => h("li", { class: `legend-series series-${series.id}` }, series.label)),
      ),
    ),
  );
}

/** The same numbers as the chart, for reading and for screen readers. */
function numbersTable(report) {
  const rows = report.series.filter((point) => SERIES.some((s) => s.value(point.counts)));
  return h(
    "details",
    { class: "chart-numbers" },
    h("summary", {}, "The numbers"),
    rows.length
      ? h(
          "table",
          { id: "overview-numbers" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, report.granularity === "hour" ? "Hour" : "Day"), SERIES.map((s) => h("th", { scope: "col" }, s.label)))),
          h(
            "tbody",
            {},
            rows.map((point) =>
              h(
                "tr",
                { dataset: { start: point.start } },
                h("th", { scope: "row" }, bucketLabel(point.start, report.granularity)),
                SERIES.map((s) => h("td", { dataset: { series: s.id } }, String(s.value(point.counts)))),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "Nothing was sent in this period."),
  );
}

function totalsView(report) {
  const t = report.totals;
  const r = report.rates;
  const item = (label, value, rate, id) =>
    h("div", { class: "total", dataset: { total: id } }, h("dt", {}, label), h("dd", {}, h("span", { class: "total-value" }, String(value)), rate !== undefined ? h("span", { class: "muted" }, ` ${percent(rate) ?? "\u2014"}`) : null));
  return h(
    "dl",
    { class: "totals", id: "overview-totals" },
    item("Sent", t.sent, undefined, "sent"),
    item("Delivered", t.delivered, r.delivery_rate, "delivered"),
    item("Opened by the customer", t.opened, r.open_rate, "opened"),
    item("Clicked", t.clicked, r.click_rate, "clicked"),
    item("Bounced", t.bounced_hard + t.bounced_soft, r.bounce_rate, "bounced"),
    item("Marked as spam", t.complaint, r.complaint_rate, "complaint"),
    item("Not sent (suppressed)", t.dropped, undefined, "dropped"),
    item("Opened only automatically", t.machine_opened, r.machine_open_rate, "machine_opened"),
  );
}

/** One rate on a scale from 0 to twice the at-risk line, its thresholds drawn as marks. */
function gauge({ label, rate, state, marks }) {
  const width = 320;
  const max = Math.max(...marks.map((m) => m.at)) * 1.5;
  const at = (value) => Math.min(width, (value / max) * width);
  const value = rate ?? 0;
  return h(
    "div",
    { class: `gauge gauge-${state}` },
    h("div", { class: "gauge-label" }, h("span", {}, label), h("strong", {}, rate === null ? "no sends" : percent(rate) ?? "")),
    svg(
      "svg",
      { viewBox: `0 0 ${width} 34`, class: "gauge-svg", role: "img", "aria-label": `${label}: ${rate === null ? "no sends" : percent(rate)}; ${marks.map((m) => `${m.label} at ${percent(m.at)}`).join(", ")}` },
      svg("rect", { x: 0, y: 6, width, height: 10, class: "gauge-track" }),
      svg("rect", { x: 0, y: 6, width: at(value), height: 10, class: "gauge-fill", "data-rate": value }),
      marks.map((mark) =>
        svg(
          "g",
          { class: `gauge-mark mark-${mark.id}`, "data-threshold": mark.at },
          svg("line", { x1: at(mark.at), x2: at(mark.at), y1: 2, y2: 20 }),
          svg("text", { x: at(mark.at), y: 31, "text-anchor": "middle" }, percent(mark.at)),
          svg("title", {}, `${mark.label}: ${percent(mark.at)}`),
        ),
      ),
    ),
  );
}

function windowView(window, thresholds) {
  return h(
    "section",
    { class: `health-window state-${window.state}`, dataset: { days: window.days, state: window.state } },
    h("h3", {}, `Last ${window.days} days`, h("span", { class: `health-badge badge-${window.state}` }, STATE_TEXT[window.state] ?? window.state)),
    h("p", { class: "muted" }, `${plural(window.sent, "recipient", "recipients")} sent to, ${plural(window.bounced, "bounce", "bounces")}, ${plural(window.complaints, "complaint", "complaints")}.`),
    gauge({
      label: "Bounce rate",
      rate: window.bounce_rate,
      state: window.bounce_state,
      marks: [
        { id: "warning", at: thresholds.bounce_warning, label: "SES review" },
        { id: "at-risk", at: thresholds.bounce_at_risk, label: "SES may pause sending" },
      ],
    }),
    gauge({
      label: "Complaint rate",
      rate: window.complaint_rate,
      state: window.complaint_state,
      marks: [
        { id: "warning", at: thresholds.complaint_warning, label: "SES review" },
        { id: "gmail", at: thresholds.complaint_gmail, label: "Gmail's spam line" },
        { id: "at-risk", at: thresholds.complaint_at_risk, label: "SES may pause sending" },
      ],
    }),
  );
}

function healthPanel(health) {
  const t = health.thresholds;
  return h(
    "section",
    { class: `health-panel state-${health.state}`, id: "health-panel", "aria-labelledby": "health-title", dataset: { state: health.state } },
    h("h2", { id: "health-title" }, "Deliverability health: ", h("span", { class: `health-badge badge-${health.state}`, id: "health-state" }, STATE_TEXT[health.state] ?? health.state)),
    h("p", {}, STATE_EXPLANATION[health.state] ?? ""),
    h(
      "p",
      { class: "muted" },
      `Rates are bounces and complaints divided by the recipients sent to in the period, as Amazon SES measures them. SES reviews an account at a ${percent(t.bounce_warning)} bounce rate or a ${percent(t.complaint_warning)} complaint rate and may pause its sending at ${percent(t.bounce_at_risk)} or ${percent(t.complaint_at_risk)}; Gmail asks bulk senders to stay below ${percent(t.complaint_gmail)} spam complaints.`,
    ),
    h("div", { class: "health-windows" }, health.windows.map((window) => windowView(window, t))),
    health.top_reasons.length
      ? h(
          "div",
          { class: "health-reasons" },
          h("h3", {}, "Most frequent reasons (last 30 days)"),
          h("ol", {}, health.top_reasons.map((reason) => h("li", { dataset: { code: reason.code } }, `${reason.summary} `, h("span", { class: "muted" }, `(${reason.count})`)))),
        )
      : null,
  );
}

export async function overviewView(ctx) {
  const range = RANGES.find((r) => r.value === ctx.query.get("range")) ?? RANGES[0];
  const kind = KINDS.some((k) => k.id === ctx.query.get("kind")) ? ctx.query.get("kind") : "";
  ctx.loading("Loading the overview\u2026");
  const params = { granularity: range.granularity, kind };
  if (range.days) {
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    params.from = new Date(today.getTime() - (range.days - 1) * 86_400_000).toISOString();
  }
  const [report, health] = await Promise.all([ctx.api.stats(params), ctx.api.statsHealth()]);
  if (!ctx.isCurrent()) return;
  const link = (changes) => withQuery("#/overview", { range: range.value, kind, ...changes });
  ctx.show(
    pageHeading("Overview"),
    h("p", { class: "intro" }, "How your emails, invoices and receipts are doing lately, and whether Amazon SES could stop your sending."),
    healthPanel(health),
    h(
      "section",
      { class: "overview-series", "aria-labelledby": "series-title" },
      h("h2", { id: "series-title" }, "Over time"),
      h(
        "form",
        { class: "filters", "aria-label": "Choose the period and kind", onsubmit: (e) => e.preventDefault() },
        selectField({ label: "Period", name: "range", value: range.value, options: RANGES, onChange: (value) => ctx.navigate(link({ range: value })) }),
        selectField({ label: "Kind", name: "kind", value: kind, options: KIND_OPTIONS, onChange: (value) => ctx.navigate(link({ kind: value })) }),
      ),
      totalsView(report),
      chart(report),
      numbersTable(report),
    ),
  );
  ctx.done("Overview", `${STATE_TEXT[health.state] ?? health.state}. ${plural(report.totals.sent, "recipient", "recipients")} sent to in this period.`, {
    live: true,
    what: "this page is open",
  });
}

// Export buttons: start a CSV export (POST /exports), show its progress while the export worker
// writes it (GET /exports/{id}), then download it from the presigned URL the API gives once done.

import { h } from "../dom.js";

const POLL_MS = 700;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percent(job) {
  if (job.state === "done") return 100;
  return job.progress === null || job.progress === undefined ? null : Math.floor(job.progress * 100);
}

function download(url, filename) {
  const link = h("a", { href: url, download: filename, class: "visually-hidden" }, filename);
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * A button that exports `{ kind, id }` ("message_recipients" or "invoice_logs") and downloads it,
 * with a progress bar and a status line (read by screen readers as it changes).
 */
export function exportButton(api, { kind, id, label }) {
  const bar = h("progress", { class: "export-progress", max: "100", hidden: true });
  const status = h("span", { class: "export-status", role: "status", "aria-live": "polite" });
  const again = h("span", { class: "export-again" });
  const button = h("button", { type: "button", class: "button export-button", dataset: { export: kind } }, label);

  function show(job) {
    const done = percent(job);
    bar.hidden = false;
    if (done === null) bar.removeAttribute("value");
    else bar.value = done;
    const rows = `${job.rows.toLocaleString()} ${job.rows === 1 ? "row" : "rows"}`;
    status.textContent = job.state === "done" ? `Export ready: ${rows}.` : `Exporting\u2026 ${done === null ? rows : `${done}%`}`;
  }

  async function run() {
    button.disabled = true;
    again.replaceChildren();
    status.textContent = "Starting the export\u2026";
    try {
      let job = await api.startExport({ kind, id });
      show(job);
      while (job.state === "queued" || job.state === "running") {
        await sleep(POLL_MS);
        job = await api.getExport(job.export_id);
        show(job);
      }
      if (job.state !== "done" || !job.url) {
        status.textContent = `The export failed${job.error ? `: ${job.error}` : "."} Try again.`;
        return;
      }
      download(job.url, job.filename);
      again.replaceChildren(h("a", { href: job.url, download: job.filename, class: "export-link" }, `Download ${job.filename} again`));
    } catch (error) {
      status.textContent = `The export could not be started: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", run);
  return h("div", { class: "export", dataset: { exportKind: kind } }, button, " ", bar, " ", status, " ", again);
}

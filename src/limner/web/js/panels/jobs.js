// A project's recent jobs (exports, imports): kind, status, percent, when; a finished export has
// its download link. Refreshes every second while any job is queued or running, and at once when
// the bus says "jobs:changed" for this project.

import * as api from "../api.js";
import { bus } from "../bus.js";
import { h } from "../dom.js";
import * as jobs from "../jobs.js";

const SHOW = 8;
const REFRESH_MS = 1000;

// ctx: {projectId, signal}
export function jobsPanel({ projectId, signal }) {
  const list = h("ul.job-list", { id: "job-list" }, h("li.muted", {}, "Loading…"));
  let timer = 0;
  let inFlight = null;
  let again = false;

  function row(j) {
    const active = !jobs.isFinished(j);
    const pct = Math.round(j.percent || 0);
    const when = j.finished_at || j.started_at || j.created_at;
    return h("li.job-row", { dataset: { id: j.id, status: j.status, kind: j.kind } },
      h("div.job-top", {},
        h("span.job-title", { title: `job ${j.id}` }, jobs.jobTitle(j)),
        h(`span.job-status.job-status-${j.status}`, {}, j.status),
      ),
      h("div.job-bottom", {},
        h("span.job-when.muted", { title: new Date(j.created_at).toLocaleString() }, jobs.since(active ? j.created_at : when)),
        active
          ? h("span.job-running", {},
            h("span.progress.job-mini", { title: j.message || "" }, h("span.progress-fill", { style: { width: `${pct}%` } })),
            h("span.job-pct", {}, `${pct}%`))
          : null,
        j.status === "done" && j.kind === "project.export"
          ? h("a.job-download", { href: jobs.downloadUrl(j.id), download: "" }, "Download")
          : null,
        j.status === "failed" ? h("span.job-error", { title: j.error || "" }, j.error || "failed") : null,
      ),
    );
  }

  async function refresh() {
    if (inFlight) {
      again = true; // one more round once this one answers
      return;
    }
    clearTimeout(timer);
    inFlight = jobs.listJobs(projectId, { signal });
    try {
      const items = await inFlight;
      list.replaceChildren(...items.slice(0, SHOW).map(row));
      if (!items.length) list.append(h("li.muted", {}, "No exports or imports yet."));
      if (items.some((j) => !jobs.isFinished(j))) timer = setTimeout(refresh, REFRESH_MS);
    } catch (err) {
      if (api.isQuiet(err)) return;
      list.replaceChildren(h("li.muted", {}, "Jobs could not be loaded."));
    } finally {
      inFlight = null;
      if (again && !signal.aborted) {
        again = false;
        refresh();
      }
    }
  }

  const off = bus.on("jobs:changed", (d) => {
    if (d && d.projectId === projectId) refresh();
  });
  signal.addEventListener("abort", () => {
    clearTimeout(timer);
    off();
  }, { once: true });

  refresh();
  return h("section.panel.jobs-panel", { id: "jobs-panel" }, h("h2", {}, "Recent jobs"), list);
}

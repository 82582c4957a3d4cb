// The progress of an upload and then of a server job: a sentence, a percentage and a bar.

import { h } from "../dom.js";

const PHASE_TEXT = { queued: "Waiting for a worker…", running: "Working…" };

// id: the element's id → {el, upload(fraction, text), job(job), reset()}
export function progressView(id) {
  const text = h("span.job-message");
  const pct = h("span.job-pct");
  const fill = h("div.progress-fill", { style: { width: "0%" } });
  const bar = h("div.progress.job-progress", {
    role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0",
  }, fill);
  const el = h("div.job-box", { id, hidden: true, "aria-live": "polite" }, h("div.job-line", {}, text, pct), bar);

  function set(percent, sentence, phase) {
    const p = Math.max(0, Math.min(100, Math.round(percent)));
    fill.style.width = `${p}%`;
    bar.setAttribute("aria-valuenow", String(p));
    pct.textContent = `${p}%`;
    text.textContent = sentence;
    el.dataset.phase = phase;
    el.hidden = false;
  }

  return {
    el,
    // the bytes going up (fraction 0..1)
    upload(fraction, sentence) {
      set(100 * fraction, sentence, "upload");
    },
    // a job as GET /jobs/{id} answers it
    job(job) {
      const st = job.status;
      let sentence = job.message || PHASE_TEXT[st] || "";
      if (st === "done") sentence = "Done";
      else if (st === "failed") sentence = "Failed";
      else if (st === "cancelled") sentence = "Cancelled";
      else if (st === "queued") sentence = PHASE_TEXT.queued;
      set(st === "done" ? 100 : job.percent || 0, sentence, st);
      el.dataset.status = st;
    },
    reset() {
      el.hidden = true;
      delete el.dataset.status;
      set(0, "", "");
      el.hidden = true;
    },
  };
}

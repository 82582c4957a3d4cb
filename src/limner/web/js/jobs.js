// Server jobs (export, import): start them, follow their progress, list a project's recent ones.
// Only talks to the server through api.js.
//
//   const job = await startExport(projectId, {format: "coco", split: "train=0.8,val=0.2"});
//   const last = await watchJob(job.id, {onUpdate: (j) => show(j.percent, j.message), signal});
//   if (last.status === "done") link.href = downloadUrl(last.id);

import * as api from "./api.js";

export const POLL_MS = 500;
export const FINISHED = new Set(["done", "failed", "cancelled"]);
export const isFinished = (job) => FINISHED.has(job && job.status);

// How many failed polls in a row (server unreachable) are borne before giving up.
const RETRIES = 6;

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException("stopped", "AbortError"));
      return;
    }
    const done = () => {
      signal?.removeEventListener("abort", stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(new DOMException("stopped", "AbortError"));
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

// Poll GET /jobs/{id} every `interval` ms until the job is done, failed or cancelled.
// onUpdate(job) runs after every answer (the first one at once); resolves with the finished job.
// Rejects with an AbortError when `signal` aborts, or with the ApiError of a refused poll.
export async function watchJob(jobId, { onUpdate, signal, interval = POLL_MS } = {}) {
  let misses = 0;
  for (;;) {
    let job;
    try {
      job = await api.get(`/jobs/${jobId}`, null, { signal });
      misses = 0;
    } catch (err) {
      // a blip of the network: try again a few times; anything else ends the watch
      if (!(err instanceof api.ApiError) || err.status !== 0 || ++misses > RETRIES) throw err;
      await sleep(interval * 2, signal);
      continue;
    }
    if (onUpdate) onUpdate(job);
    if (isFinished(job)) return job;
    await sleep(interval, signal);
  }
}

// -- starting and listing ---------------------------------------------------------------------

export async function listFormats(opts = {}) {
  return (await api.get("/formats", null, opts)).items;
}

// body: {format, statuses?, labels?, owner?, include_models?, include_images?, split?, seed?,
// stratify?, remap?}; resolves with the queued job.
export const startExport = (projectId, body, opts = {}) => api.post(`/projects/${projectId}/exports`, body, opts);

// Upload a dataset zip and start its import; onProgress(fraction) follows the upload.
// fields: {format?, owner?, with_images, create_labels}; resolves with the queued job.
export function startImport(projectId, file, fields, { onProgress, signal } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null || v === "") continue;
    form.append(k, typeof v === "boolean" ? (v ? "true" : "false") : String(v));
  }
  return api.uploadForm(`/projects/${projectId}/imports`, form, { onProgress, signal });
}

export async function listJobs(projectId, opts = {}) {
  return (await api.get(`/projects/${projectId}/jobs`, null, opts)).items;
}

export const cancelJob = (jobId, opts = {}) => api.post(`/jobs/${jobId}/cancel`, undefined, opts);

export const downloadUrl = (jobId) => api.jobDownloadUrl(jobId);

// -- words ------------------------------------------------------------------------------------

// "Export · coco", "Import · birds.zip"
export function jobTitle(job) {
  const p = job.params || {};
  if (job.kind === "project.export") return `Export · ${p.format || "?"}`;
  if (job.kind === "project.import") return `Import · ${p.name || p.format || "dataset"}`;
  return String(job.kind || "job").replace(/^project\./, "").replace(/[._]/g, " ");
}

// "just now", "5 min ago", "3 h ago", "2 d ago", else the date
export function since(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86400) return `${Math.round(s / 86400)} d ago`;
  return new Date(t).toLocaleDateString();
}

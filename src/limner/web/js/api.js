// The only module that talks to the server. Everything else calls these functions.
//
// - JSON in and out; a failed request throws ApiError carrying the server's sentence
//   ({"detail": sentence, "field": name-or-null}).
// - Every write sends X-CSRF-Token with the value of the limner_csrf cookie (the session
//   cookie itself is HttpOnly and travels on its own).
// - A 401 emits "auth:required" on the bus; main.js then shows the login page.
// - showError() displays a sentence in the page's error banner.

import { bus } from "./bus.js";

export const BASE = "/api/v1";
const CSRF_COOKIE = "limner_csrf";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, detail, field = null) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.field = field;
  }
}

export function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return "";
}

function url(path, query) {
  let out = path.startsWith("/api/") ? path : BASE + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) out += (out.includes("?") ? "&" : "?") + s;
  }
  return out;
}

function writeHeaders(method) {
  const h = {};
  if (!SAFE.has(method)) {
    const token = cookie(CSRF_COOKIE);
    if (token) h["X-CSRF-Token"] = token;
  }
  return h;
}

// Turn an error body (or its absence) into an ApiError; a 401 also tells the app to log in.
function failure(status, statusText, body, path) {
  let detail = `${status} ${statusText || "request failed"}`.trim();
  let field = null;
  if (body && typeof body === "object" && typeof body.detail === "string") {
    detail = body.detail;
    field = body.field ?? null;
  }
  const err = new ApiError(status, detail, field);
  err.body = body && typeof body === "object" ? body : null; // the whole answer (an upload's report)
  if (status === 401 && !path.endsWith("/auth/login")) bus.emit("auth:required", { detail });
  return err;
}

export async function request(method, path, { body, query, signal } = {}) {
  const headers = writeHeaders(method);
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const target = url(path, query);
  let res;
  try {
    res = await fetch(target, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "cannot reach the server; check that it is running and try again");
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw failure(res.status, res.statusText, data, target);
  return data;
}

export const get = (path, query, opts = {}) => request("GET", path, { ...opts, query });
export const post = (path, body, opts = {}) => request("POST", path, { ...opts, body });
export const patch = (path, body, opts = {}) => request("PATCH", path, { ...opts, body });
export const del = (path, opts = {}) => request("DELETE", path, opts);

// Upload files as multipart "files" with progress; XMLHttpRequest, because fetch reports no
// upload progress. onProgress(fraction 0..1) fires while the bytes go up; the promise resolves
// with the server's JSON answer.
export function upload(path, files, { onProgress, signal } = {}) {
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  return uploadForm(path, form, { onProgress, signal });
}

// POST any multipart form (files and fields) with upload progress, as upload() does.
export function uploadForm(path, form, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException("upload aborted", "AbortError"));
      return;
    }
    const target = url(path);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", target);
    xhr.withCredentials = true;
    for (const [k, v] of Object.entries(writeHeaders("POST"))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (onProgress && e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onProgress && onProgress(1);
    xhr.onload = () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(failure(xhr.status, xhr.statusText, data, target));
    };
    xhr.onerror = () => reject(new ApiError(0, "the upload failed: the server could not be reached"));
    xhr.onabort = () => reject(new DOMException("upload aborted", "AbortError"));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

// Addresses the browser loads by itself (<img src>), with the session cookie.
export const thumbnailUrl = (assetId) => `${BASE}/assets/${assetId}/thumbnail`;
export const imageUrl = (assetId) => `${BASE}/assets/${assetId}/image`;
// The zip a finished export job made (a plain link: the browser downloads it with the cookie).
export const jobDownloadUrl = (jobId) => `${BASE}/jobs/${jobId}/download`;

// -- error display --------------------------------------------------------------------------

export function message(err) {
  if (err instanceof ApiError) return err.detail;
  if (err && err.message) return err.message;
  return String(err);
}

let flashTimer = 0;

// Show a sentence in the banner under the header (it stays until closed or replaced).
export function showError(err) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.replaceChildren();
  const text = document.createElement("span");
  text.textContent = message(err);
  const close = document.createElement("button");
  close.type = "button";
  close.className = "flash-close";
  close.setAttribute("aria-label", "Dismiss");
  close.textContent = "×";
  close.addEventListener("click", clearError);
  box.append(text, close);
  box.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(clearError, 15000);
}

export function clearError() {
  const box = document.getElementById("flash");
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
  clearTimeout(flashTimer);
}

// True for the errors pages need not report: aborted loads, and 401s (the login page shows).
export function isQuiet(err) {
  return (err && err.name === "AbortError") || (err instanceof ApiError && err.status === 401);
}

// For page code: report an error unless it is a quiet one.
export function report(err) {
  if (!isQuiet(err)) showError(err);
}

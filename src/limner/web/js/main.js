// The application shell: hash router, header (breadcrumbs, user), session handling.
//
// Routes:  #/login   #/projects (default)   #/projects/{id}   #/assets/{id} (the workspace)
// A page module exports mount(root, ctx) and may return {update(query), unmount()}:
//   ctx = {params, query, app, signal}; `update` is called instead of a remount when only the
//   query string changed (paging, filters); `signal` aborts when the page goes away.

import * as api from "./api.js";
import { bus } from "./bus.js";
import { h } from "./dom.js";
import * as loginPage from "./pages/login.js";
import * as projectsPage from "./pages/projects.js";
import * as projectPage from "./pages/project.js";
import * as qualityPage from "./pages/quality.js";
import * as workspacePage from "./pages/workspace.js";

const ROUTES = [
  { pattern: /^\/login$/, page: loginPage, public: true },
  { pattern: /^\/projects$/, page: projectsPage },
  { pattern: /^\/projects\/(\d+)$/, page: projectPage },
  { pattern: /^\/projects\/(\d+)\/quality$/, page: qualityPage },
  { pattern: /^\/assets\/(\d+)$/, page: workspacePage, full: true },
];

const root = document.getElementById("app");

// What pages may use of the shell.
const app = {
  user: null,
  // A new history entry, routed at once (not a task later, as a hashchange would be).
  navigate(hash) {
    if (location.hash !== hash) history.pushState(history.state, "", hash);
    route();
  },
  // like navigate, without a new history entry (typing in a search box)
  replace(hash) {
    history.replaceState(history.state, "", hash);
    route();
  },
  // crumbs: [{text, href?}]; the last one names the page
  setCrumbs(crumbs) {
    const nav = document.getElementById("crumbs");
    nav.replaceChildren(
      ...crumbs.flatMap((c, i) => [
        i ? h("span.crumb-sep", { "aria-hidden": "true" }, "›") : null,
        c.href ? h("a.crumb", { href: c.href }, c.text) : h("span.crumb.current", {}, c.text),
      ]).filter(Boolean),
    );
    const last = crumbs[crumbs.length - 1];
    document.title = last ? `${last.text} · Limner` : "Limner";
  },
};

let current = null; // {hash, route, params, handle, abort}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/projects";
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  return { raw, path, query };
}

function unmount() {
  if (!current) return;
  current.abort.abort();
  try {
    current.handle?.unmount?.();
  } catch (err) {
    console.error(err);
  }
  current = null;
}

function route() {
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    history.replaceState(history.state, "", "#/projects"); // the default page, spelled out
  }
  const { raw, path, query } = parseHash();
  if (current && current.hash === raw) return;
  let found = null, params = [];
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m) {
      found = r;
      params = m.slice(1);
      break;
    }
  }
  if (!found) {
    app.navigate("#/projects");
    return;
  }
  if (!found.public && !app.user) {
    app.navigate(`#/login?next=${encodeURIComponent("#" + raw)}`);
    return;
  }
  api.clearError();
  // same page, same path parameters: let it update in place (paging, filters)
  if (current && current.route === found && current.params.join() === params.join() && current.handle?.update) {
    current.hash = raw;
    current.handle.update(query);
    return;
  }
  unmount();
  root.replaceChildren();
  document.body.classList.toggle("full", Boolean(found.full));
  const abort = new AbortController();
  current = { hash: raw, route: found, params, abort, handle: null };
  current.handle = found.page.mount(root, { params, query, app, signal: abort.signal }) || null;
}

function renderUser() {
  const box = document.getElementById("user");
  if (!app.user) {
    box.replaceChildren();
    return;
  }
  const name = app.user.display_name || app.user.username;
  box.replaceChildren(
    h("span.user-name", { title: app.user.username }, name, app.user.is_admin ? h("span.admin-tag", {}, "admin") : null),
    h("button.link-button", { type: "button", onclick: logout }, "Log out"),
  );
}

async function logout() {
  try {
    await api.post("/auth/logout");
  } catch (err) {
    api.report(err);
  }
  app.user = null;
  renderUser();
  bus.emit("auth:logout", null);
  app.navigate("#/login");
}

bus.on("auth:required", () => {
  app.user = null;
  renderUser();
  const { raw, path } = parseHash();
  if (path !== "/login") app.navigate(`#/login?next=${encodeURIComponent("#" + raw)}`);
});

bus.on("auth:login", (user) => {
  app.user = user;
  renderUser();
  const next = parseHash().query.get("next");
  app.navigate(next && next.startsWith("#/") && !next.startsWith("#/login") ? next : "#/projects");
});

window.addEventListener("unhandledrejection", (e) => {
  if (api.isQuiet(e.reason)) {
    e.preventDefault();
    return;
  }
  if (e.reason instanceof api.ApiError) {
    e.preventDefault();
    api.showError(e.reason);
  }
});

async function start() {
  window.addEventListener("hashchange", route);
  try {
    app.user = await api.get("/auth/me");
  } catch (err) {
    app.user = null;
    api.report(err);
  }
  renderUser();
  route();
}

start();

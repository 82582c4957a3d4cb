// Loading an asset for the workspace, fetching the next one ahead, and walking the grid's list
// (previous / next / next unfinished / by name).
//
// loadAsset(id, owner) → {asset, project, labels, mine, others, image}; a prefetched asset is
// answered from memory, so moving to the next image costs no request.

import * as api from "./api.js";
import { fmt } from "./dom.js";
import { PAGE, gridQuery } from "./pages/project.js";

const FRESH_MS = 60_000;
const prefetched = new Map(); // asset id → {at, promise}
const projectCache = new Map(); // project id → {at, project, labels}

function loadImage(src, signal) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => (img.decode ? img.decode().catch(() => {}).then(() => resolve(img)) : resolve(img));
    img.onerror = () => reject(new Error("the image could not be loaded"));
    if (signal) signal.addEventListener("abort", () => { img.src = ""; }, { once: true });
    img.src = src;
  });
}

async function projectData(pid, signal) {
  const c = projectCache.get(pid);
  if (c && Date.now() - c.at < FRESH_MS) return c;
  const [project, labels] = await Promise.all([
    api.get(`/projects/${pid}`, null, { signal }),
    api.get(`/projects/${pid}/labels`, null, { signal }),
  ]);
  const entry = { at: Date.now(), project, labels: labels.items };
  projectCache.set(pid, entry);
  return entry;
}

export function othersItems(bodies, labels) {
  const byName = new Map(labels.map((l) => [l.name, l]));
  const items = [];
  for (const ann of bodies) {
    ann.shapes.forEach((shape, k) => {
      if (shape.kind === "tag") return;
      const l = byName.get(shape.label);
      items.push({
        key: `${ann.owner}/${k}`, shape, owner: ann.owner, name: `${shape.label} · ${ann.owner}`,
        color: l ? l.color : "#888888", skeleton: l ? l.skeleton : null,
      });
    });
  }
  return items;
}

async function fetchAsset(id, owner, signal) {
  const asset = await api.get(`/assets/${id}`, null, { signal });
  const imageP = loadImage(api.imageUrl(id), signal);
  const [{ project, labels }, list] = await Promise.all([
    projectData(asset.project_id, signal),
    api.get(`/assets/${id}/annotations`, null, { signal }),
  ]);
  const owners = list.items.map((a) => a.owner);
  const bodies = await Promise.all(owners.map((o) => api.get(`/assets/${id}/annotations/${encodeURIComponent(o)}`, null, { signal })));
  let mine = bodies.find((b) => b.owner === owner);
  if (!mine) mine = { owner, revision: 0, shapes: [] };
  const others = othersItems(bodies.filter((b) => b.owner !== owner), labels);
  const image = await imageP;
  return { asset, project, labels, mine, others, image, owners: owners.length, stale: Promise.resolve(false) };
}

export function loadAsset(id, owner, signal) {
  const hit = prefetched.get(id);
  prefetched.delete(id);
  if (hit && Date.now() - hit.at < FRESH_MS) {
    // Drawn at once from memory; `stale` tells, a moment later, whether the annotations changed
    // since they were fetched (the workspace then reloads them before the person's first save).
    return hit.promise.then((data) => ({
      ...data,
      stale: api.get(`/assets/${id}/annotations`, null, { signal }).then((list) => {
        const cur = list.items.find((a) => a.owner === owner);
        return (cur ? cur.revision : 0) !== data.mine.revision || list.items.length !== data.owners;
      }).catch(() => false),
    })).catch(() => fetchAsset(id, owner, signal));
  }
  return fetchAsset(id, owner, signal);
}

// Other owners' annotations of the asset, as items for the scene (after a consensus, a review).
export async function loadOthers(id, owner, labels, signal) {
  const list = await api.get(`/assets/${id}/annotations`, null, { signal });
  const owners = list.items.map((a) => a.owner).filter((o) => o !== owner);
  const bodies = await Promise.all(owners.map((o) => api.get(`/assets/${id}/annotations/${encodeURIComponent(o)}`, null, { signal })));
  return othersItems(bodies, labels);
}

export function prefetchAsset(id, owner) {
  if (prefetched.has(id)) return;
  const promise = fetchAsset(id, owner, null);
  promise.catch(() => prefetched.delete(id));
  prefetched.set(id, { at: Date.now(), promise });
  while (prefetched.size > 4) prefetched.delete(prefetched.keys().next().value);
}

// Where this asset sits in the grid's list: neighbours, position, and the ways to move on.
export function createNavigator(id, query, signal) {
  const i = query.get("i");
  const ctx = {
    filters: { status: query.get("status") || "", label: query.get("label") || "", name: query.get("name") || "" },
    index: i !== null && /^\d+$/.test(i) ? Number(i) : null,
  };
  let pid = Number(query.get("project")) || null;
  let resolveReady;
  const ready = new Promise((r) => { resolveReady = r; });
  const nav = {
    ready,
    prevHref: null,
    nextHref: null,
    nextId: null,
    positionText: "",
    setProject(p) {
      pid = p;
      locate().catch((err) => api.report(err)).finally(resolveReady);
    },
    backHref() {
      const off = ctx.index !== null ? ctx.index - (ctx.index % PAGE) : null;
      return `#/projects/${pid}${gridQuery(ctx.filters, { offset: off || null })}`;
    },
    step(delta, app) {
      const href = delta < 0 ? nav.prevHref : nav.nextHref;
      if (href) app.navigate(href);
    },
    prefetchNext(owner) {
      if (nav.nextId) prefetchAsset(nav.nextId, owner);
    },
    // The next asset to work on. Annotators follow their work queue (rework first, their tasks,
    // assets fewer people have done; with the project's overlap and ground truth mixed in);
    // others the next asset (after this one, then from the start) that is new or in progress.
    async nextUnfinished({ queue = false } = {}) {
      if (queue) {
        const q = await api.get(`/projects/${pid}/queue`, { limit: 3 }, { signal });
        const item = q.items.find((a) => a.id !== id);
        return item ? `#/assets/${item.id}${gridQuery({}, { project: pid })}` : null;
      }
      for (const status of [["new", "in_progress"]]) {
        const found = [];
        for (const s of status) {
          const page = await api.get(`/projects/${pid}/assets`, { status: s, after: id, limit: 1 }, { signal });
          if (page.items[0]) found.push(page.items[0]);
        }
        if (!found.length) {
          for (const s of status) {
            const page = await api.get(`/projects/${pid}/assets`, { status: s, limit: 1 }, { signal });
            if (page.items[0] && page.items[0].id !== id) found.push(page.items[0]);
          }
        }
        if (found.length) {
          found.sort((a, b) => a.id - b.id);
          return `#/assets/${found[0].id}${gridQuery({}, { project: pid })}`;
        }
      }
      return null;
    },
    async byName(q) {
      const page = await api.get(`/projects/${pid}/assets`, { name: q, limit: 1 }, { signal });
      return page.items[0] ? `#/assets/${page.items[0].id}${gridQuery({ name: q }, { project: pid, i: 0 })}` : null;
    },
  };

  const hrefFor = (assetId, index) => `#/assets/${assetId}${gridQuery(ctx.filters, { project: pid, i: index })}`;

  async function locate() {
    const base = { status: ctx.filters.status, label: ctx.filters.label, name: ctx.filters.name };
    const path = `/projects/${pid}/assets`;
    if (ctx.index !== null) {
      const start = Math.max(0, ctx.index - 1);
      const page = await api.get(path, { ...base, offset: start, limit: ctx.index - start + 2 }, { signal });
      const at = ctx.index - start;
      if (page.items[at] && page.items[at].id === id) {
        const before = at > 0 ? page.items[at - 1] : null;
        const after = page.items[at + 1] || null;
        nav.prevHref = before ? hrefFor(before.id, ctx.index - 1) : null;
        nav.nextHref = after ? hrefFor(after.id, ctx.index + 1) : null;
        nav.nextId = after ? after.id : null;
        nav.positionText = `${fmt.format(ctx.index + 1)} of ${fmt.format(page.total)}`;
        return;
      }
    }
    // Opened directly (or the list changed): neighbours by id.
    const [after, before] = await Promise.all([
      api.get(path, { ...base, after: id, limit: 1 }, { signal }),
      api.get(path, { ...base, before: id, limit: 1 }, { signal }),
    ]);
    const a = after.items[0] || null, b = before.items[0] || null;
    nav.nextHref = a ? hrefFor(a.id, null) : null;
    nav.prevHref = b ? hrefFor(b.id, null) : null;
    nav.nextId = a ? a.id : null;
    nav.positionText = `of ${fmt.format(after.total)}`;
  }

  return nav;
}

// The asset viewer (read-only): the image on a canvas with every annotation of every owner drawn
// in its label colour, the tags and objects in a side panel, prev/next through the grid's list
// (buttons and the A / D keys).
//
// The address carries where the viewer was opened from: #/assets/12?project=3&i=57&status=done
// (the grid's filters and the asset's position in that list), so prev/next walk the same list.

import * as api from "../api.js";
import { createBus } from "../bus.js";
import { fmt, h, statusText } from "../dom.js";
import { objectsPanel } from "../panels/objects.js";
import { PAGE, gridQuery } from "./project.js";
import { createScene } from "../render/scene.js";

function readContext(query) {
  const i = query.get("i");
  return {
    filters: { status: query.get("status") || "", label: query.get("label") || "", name: query.get("name") || "" },
    index: i !== null && /^\d+$/.test(i) ? Number(i) : null,
  };
}

function loadImage(src, signal) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.decoding = "async";
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the image could not be loaded"));
    signal.addEventListener("abort", () => { img.src = ""; }, { once: true });
    img.src = src;
  });
}

export function mount(root, { params, query, app, signal }) {
  const id = Number(params[0]);
  const ctx = readContext(query);
  let pid = Number(query.get("project")) || null;
  let prevHref = null, nextHref = null;

  // The viewer's state has one owner (this page); the scene and the panel follow its bus.
  const viewer = {
    bus: createBus(),
    items: [],
    highlight: null,
    setHighlight(key) {
      if (key === viewer.highlight) return;
      viewer.highlight = key;
      viewer.bus.emit("highlight", key);
    },
  };

  app.setCrumbs([{ text: "Projects", href: "#/projects" }, { text: `Asset ${id}` }]);

  const back = h("a.button.back", { href: "#/projects", title: "Back to the grid" }, "‹ Grid");
  const name = h("span.viewer-name", {}, `Asset ${id}`);
  const status = h("span.status");
  const size = h("span.muted.viewer-size");
  const zoomText = h("span.zoom-text", { id: "zoom-text", title: "zoom" }, "");
  const prev = h("button", { type: "button", id: "asset-prev", disabled: true, title: "Previous image (A)" }, "‹ Prev");
  const next = h("button", { type: "button", id: "asset-next", disabled: true, title: "Next image (D)" }, "Next ›");
  const position = h("span.position", { id: "asset-position" });
  const canvas = h("canvas", { id: "viewer-canvas" });
  const overlay = h("div.canvas-overlay", {}, "Loading…");
  const side = h("div.viewer-side-wrap");

  const scene = createScene(canvas, {
    onHover: (key) => viewer.setHighlight(key),
    onView: (v) => { zoomText.textContent = `${Math.round(v.scale * 100)}%`; },
  });
  const offHighlight = viewer.bus.on("highlight", (key) => scene.setHighlight(key));
  let panel = null;

  root.append(
    h("section.viewer-page", {},
      h("div.viewer-bar", {},
        back, name, status, size,
        h("span.spacer"),
        h("button", { type: "button", title: "Zoom out", "aria-label": "Zoom out", onclick: () => scene.zoom(1 / 1.25) }, "−"),
        zoomText,
        h("button", { type: "button", title: "Zoom in", "aria-label": "Zoom in", onclick: () => scene.zoom(1.25) }, "+"),
        h("button", { type: "button", title: "Fit the image to the window (double-click)", onclick: () => scene.fit() }, "Fit"),
        h("span.bar-sep"),
        prev, position, next,
      ),
      h("div.viewer-body", {},
        h("div.canvas-wrap", {}, canvas, overlay),
        side,
      ),
    ),
  );

  const hrefFor = (assetId, index) => `#/assets/${assetId}${gridQuery(ctx.filters, { project: pid, i: index })}`;

  function step(delta) {
    const href = delta < 0 ? prevHref : nextHref;
    if (href) app.navigate(href);
  }
  prev.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));

  function onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName))) return;
    const k = e.key.toLowerCase();
    if (k === "a") step(-1);
    else if (k === "d") step(1);
    else if (k === "f" || k === "0") scene.fit();
    else return;
    e.preventDefault();
  }
  window.addEventListener("keydown", onKey);

  // Where this asset sits in the grid's list: its neighbours and the total.
  async function loadNeighbours() {
    const base = { status: ctx.filters.status, label: ctx.filters.label, name: ctx.filters.name };
    const path = `/projects/${pid}/assets`;
    if (ctx.index !== null) {
      const start = Math.max(0, ctx.index - 1);
      const page = await api.get(path, { ...base, offset: start, limit: ctx.index - start + 2 }, { signal });
      const at = ctx.index - start;
      if (page.items[at] && page.items[at].id === id) {
        const before = at > 0 ? page.items[at - 1] : null;
        const after = page.items[at + 1] || null;
        prevHref = before ? hrefFor(before.id, ctx.index - 1) : null;
        nextHref = after ? hrefFor(after.id, ctx.index + 1) : null;
        position.textContent = `${fmt.format(ctx.index + 1)} of ${fmt.format(page.total)}`;
        back.href = `#/projects/${pid}${gridQuery(ctx.filters, { offset: ctx.index - (ctx.index % PAGE) || null })}`;
        return page.items[at + 1] || null;
      }
    }
    // Opened directly (or the list changed): only the next one can be found, by id.
    // (The API pages forward from an id with `after`; there is no `before`.)
    const page = await api.get(path, { ...base, after: id, limit: 1 }, { signal });
    const after = page.items[0] || null;
    nextHref = after ? hrefFor(after.id, null) : null;
    prevHref = null;
    position.textContent = `of ${fmt.format(page.total)}`;
    position.title = "open the image from the grid to step back and forth through the list";
    return after;
  }

  async function loadShapes(labels) {
    const byName = new Map(labels.map((l) => [l.name, l]));
    const list = (await api.get(`/assets/${id}/annotations`, null, { signal })).items;
    const bodies = await Promise.all(
      list.map((a) => api.get(`/assets/${id}/annotations/${encodeURIComponent(a.owner)}`, null, { signal })),
    );
    const items = [];
    for (const ann of bodies) {
      ann.shapes.forEach((shape, k) => {
        const label = byName.get(shape.label);
        items.push({
          key: `${ann.owner}/${k}`,
          shape,
          owner: ann.owner,
          name: shape.label,
          color: label ? label.color : "#888888",
          skeleton: label ? label.skeleton : null,
        });
      });
    }
    return items;
  }

  async function load() {
    try {
      const asset = await api.get(`/assets/${id}`, null, { signal });
      pid = asset.project_id;
      name.textContent = asset.name;
      name.title = asset.name;
      status.textContent = statusText(asset.status);
      status.className = `status status-${asset.status}`;
      size.textContent = `${asset.width} × ${asset.height}`;
      back.href = `#/projects/${pid}${gridQuery(ctx.filters)}`;

      const imageP = loadImage(api.imageUrl(id), signal);
      const projectP = api.get(`/projects/${pid}`, null, { signal });
      const labelsP = api.get(`/projects/${pid}/labels`, null, { signal });
      const neighboursP = loadNeighbours().catch((err) => { api.report(err); return null; });

      projectP.then((p) => app.setCrumbs([
        { text: "Projects", href: "#/projects" },
        { text: p.name, href: back.href },
        { text: asset.name },
      ])).catch(() => {});

      const labels = (await labelsP).items;
      const [img, items] = await Promise.all([imageP, loadShapes(labels)]);
      if (signal.aborted) return;
      viewer.items = items;
      scene.setImage(img, asset.width, asset.height);
      scene.setShapes(items);
      panel = objectsPanel(viewer);
      side.replaceChildren(panel.el);
      overlay.hidden = true;
      canvas.dataset.loaded = "1";

      const after = await neighboursP;
      prev.disabled = !prevHref;
      next.disabled = !nextHref;
      if (after) loadImage(api.imageUrl(after.id), signal).catch(() => {}); // warm the cache for D
    } catch (err) {
      if (signal.aborted) return;
      overlay.textContent = api.message(err);
      overlay.classList.add("error");
      api.report(err);
    }
  }

  load();

  return {
    unmount() {
      window.removeEventListener("keydown", onKey);
      offHighlight();
      panel?.destroy();
      scene.destroy();
    },
  };
}

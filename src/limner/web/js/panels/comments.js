// Comments of the asset: threads pinned to a point or a box, with replies, resolve/reopen, and the
// count of open ones (shown in the panel head and on the top bar). The comment tool (C) places a
// new one; open comments are drawn as numbered pins; clicking a comment shows its place.

import * as api from "../api.js";
import { h } from "../dom.js";
import { shapeBounds, toScreen } from "../render/geometry.js";

// A comment's region is a shape's kind and geometry (points, box, polygon, ellipse): [x, y, w, h].
function regionBounds(region) {
  const b = region ? shapeBounds(region) : null;
  return b ? [b[0], b[1], b[2] - b[0], b[3] - b[1]] : null;
}

export function commentsPanel(editor, { assetId, user, onCount = () => {} }) {
  const list = h("ul.comment-list", { id: "comment-list" });
  const count = h("span.muted", { id: "comments-open" });
  const form = h("div.comment-new", { id: "comment-new", hidden: true });
  const el = h("section.panel.comments-panel", { id: "comments-panel" },
    h("div.panel-head", {}, h("h2", {}, "Comments ", count),
      h("button.link", { type: "button", title: "Pin a comment: press C, then click or drag on the image", onclick: () => editor.setTool("comment") }, "+ pin")),
    form, list);
  let comments = [];
  let focused = null;

  function openCount() {
    return comments.filter((c) => !c.resolved && c.parent_id == null).length;
  }

  async function load() {
    try {
      comments = (await api.get(`/assets/${assetId}/comments`)).items;
    } catch (err) {
      api.report(err);
      return;
    }
    render();
  }

  function pins() {
    return comments.filter((c) => c.parent_id == null && !c.resolved && c.region);
  }

  function render() {
    const roots = comments.filter((c) => c.parent_id == null);
    const replies = new Map();
    for (const c of comments) if (c.parent_id != null) (replies.get(c.parent_id) || replies.set(c.parent_id, []).get(c.parent_id)).push(c);
    const n = openCount();
    count.textContent = String(n);
    onCount(n);
    const pinNo = new Map(pins().map((c, i) => [c.id, i + 1]));
    list.replaceChildren(...roots.map((c) => h("li.comment", {
      class: [c.resolved ? "resolved" : "", focused === c.id ? "focused" : ""].join(" "), dataset: { id: String(c.id) },
    },
      h("div.comment-head", {},
        pinNo.has(c.id) ? h("span.pin-no", {}, String(pinNo.get(c.id))) : null,
        h("strong", {}, c.author || "someone"), h("span.muted", {}, ` ${new Date(c.created_at).toLocaleString()}`)),
      h("div.comment-body", { onclick: () => show(c) }, c.body),
      (replies.get(c.id) || []).map((r) => h("div.comment-reply", {}, h("strong", {}, r.author || "someone"), " ", r.body)),
      h("div.comment-actions", {},
        h("button.link", { type: "button", dataset: { act: "reply" }, onclick: () => reply(c) }, "reply"),
        h("button.link", { type: "button", dataset: { act: "resolve" }, onclick: () => resolve(c, !c.resolved) }, c.resolved ? "reopen" : "resolve")),
    )));
    editor.invalidate();
  }

  function show(c) {
    focused = c.id;
    const b = regionBounds(c.region);
    if (b) editor.scene.fitTo(b, 0.6);
    render();
  }

  async function post(body, region, parent) {
    try {
      const c = await api.post(`/assets/${assetId}/comments`, { body, region: region || null, parent_id: parent ?? null });
      comments.push(c);
      render();
      return c;
    } catch (err) {
      api.report(err);
      return null;
    }
  }

  async function resolve(c, resolved) {
    try {
      const u = await api.patch(`/comments/${c.id}`, { resolved });
      Object.assign(c, u);
      render();
    } catch (err) {
      api.report(err);
    }
  }

  function ask(title, onSend) {
    const text = h("textarea", { id: "comment-text", rows: 3, placeholder: "What should change here?" });
    const send = async () => {
      const body = text.value.trim();
      if (!body) return text.focus();
      form.hidden = true;
      await onSend(body);
    };
    text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) send();
      if (e.key === "Escape") form.hidden = true;
      e.stopPropagation();
    });
    form.replaceChildren(h("div.muted", {}, title), text,
      h("div.comment-form-foot", {},
        h("button", { type: "button", onclick: () => { form.hidden = true; } }, "Cancel"),
        h("button.primary", { type: "button", id: "comment-post", onclick: send }, "Post")));
    form.hidden = false;
    text.focus();
  }

  function reply(c) {
    ask(`Reply to ${c.author || "the comment"}`, (body) => post(body, null, c.id));
  }

  // The comment tool placed a region: ask for the text.
  function startNew(region) {
    const g = region.geometry;
    const where = region.kind === "box" ? `the box at ${Math.round(g.x)}, ${Math.round(g.y)}` : `${Math.round(g.points[0][0])}, ${Math.round(g.points[0][1])}`;
    ask(`New comment at ${where}`, (body) => post(body, region, null));
  }

  const offOverlay = editor.addOverlay((ctx, view) => {
    pins().forEach((c, i) => {
      const b = regionBounds(c.region);
      if (!b) return;
      const hot = focused === c.id;
      if (c.region.kind === "box") {
        const [x, y] = toScreen(view, b[0], b[1]);
        ctx.strokeStyle = hot ? "#ffd060" : "#ffb020";
        ctx.lineWidth = hot ? 3 : 2;
        ctx.setLineDash([6, 4]);
        ctx.strokeRect(x, y, b[2] * view.scale, b[3] * view.scale);
        ctx.setLineDash([]);
      }
      const [px, py] = toScreen(view, b[0], b[1]);
      ctx.beginPath();
      ctx.arc(px, py - 12, 10, 0, 2 * Math.PI);
      ctx.moveTo(px - 5, py - 5);
      ctx.lineTo(px, py);
      ctx.lineTo(px + 5, py - 5);
      ctx.fillStyle = hot ? "#ffd060" : "#ffb020";
      ctx.fill();
      ctx.fillStyle = "#222";
      ctx.font = "bold 11px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(String(i + 1), px, py - 12);
    });
  });

  load();
  return { el, startNew, reload: load, get open() { return openCount(); }, destroy: offOverlay, user };
}

// The minimap: a small overview of the whole image with the part the canvas shows outlined.
// Click or drag in it to move the view there (the zoom stays).
//
//   const map = minimap(editor);   // {el, destroy}
//   side.append(map.el);
//
// The overview canvas (#minimap) carries data-rect="x0,y0,x1,y1": the image rectangle in view,
// rounded, for tests.

import { h } from "../dom.js";
import { visibleRect } from "../render/geometry.js";

const MAX_W = 280; // CSS pixels
const MAX_H = 200;

export function minimap(editor) {
  const { scene, bus } = editor;
  const canvas = h("canvas.minimap", {
    id: "minimap", title: "Overview: click or drag to move the view", "aria-label": "Overview of the image",
    style: { display: "block", cursor: "crosshair", touchAction: "none", borderRadius: "4px", background: "#0003" },
  });
  const el = h("section.panel.minimap-panel", { id: "minimap-panel" }, h("h2", {}, "Overview"), canvas);
  const ctx = canvas.getContext("2d");
  let frame = 0;
  let dragging = null; // the pointer id while dragging

  // The overview's size in CSS pixels, and the image pixels per CSS pixel.
  function layout() {
    const { imageWidth: iw, imageHeight: ih } = scene.size;
    if (!iw || !ih) return null;
    const k = Math.min(MAX_W / iw, MAX_H / ih);
    return { w: Math.max(1, Math.round(iw * k)), h: Math.max(1, Math.round(ih * k)), k };
  }

  function draw() {
    frame = 0;
    const thumb = scene.thumbnail;
    const box = layout();
    if (!thumb || !box) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(box.w * dpr) || canvas.height !== Math.round(box.h * dpr)) {
      canvas.width = Math.round(box.w * dpr);
      canvas.height = Math.round(box.h * dpr);
      canvas.style.width = `${box.w}px`;
      canvas.style.height = `${box.h}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, box.w, box.h);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(thumb, 0, 0, box.w, box.h);
    const { width, height } = scene.size;
    const [x0, y0, x1, y1] = visibleRect(scene.view, width, height);
    const rx0 = Math.max(0, x0 * box.k), ry0 = Math.max(0, y0 * box.k);
    const rx1 = Math.min(box.w, x1 * box.k), ry1 = Math.min(box.h, y1 * box.k);
    // shade what is out of view, outline what is in it
    ctx.fillStyle = "rgba(0,0,0,0.45)";
    ctx.beginPath();
    ctx.rect(0, 0, box.w, box.h);
    if (rx1 > rx0 && ry1 > ry0) ctx.rect(rx0, ry0, rx1 - rx0, ry1 - ry0);
    ctx.fill("evenodd");
    if (rx1 > rx0 && ry1 > ry0) {
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 1.5;
      ctx.strokeRect(rx0 + 0.75, ry0 + 0.75, Math.max(0, rx1 - rx0 - 1.5), Math.max(0, ry1 - ry0 - 1.5));
    }
    canvas.dataset.rect = [x0, y0, x1, y1].map(Math.round).join(",");
  }

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(draw);
  };

  // Centre the view on the image point under the pointer.
  function moveTo(e) {
    const r = canvas.getBoundingClientRect();
    const { imageWidth: iw, imageHeight: ih } = scene.size;
    if (!r.width || !r.height || !iw) return;
    const x = Math.min(iw, Math.max(0, ((e.clientX - r.left) / r.width) * iw));
    const y = Math.min(ih, Math.max(0, ((e.clientY - r.top) / r.height) * ih));
    scene.centreOn(x, y);
  }

  function onDown(e) {
    if (e.button !== 0) return;
    e.preventDefault();
    dragging = e.pointerId;
    canvas.setPointerCapture(e.pointerId);
    moveTo(e);
  }
  function onMove(e) {
    if (dragging === e.pointerId) moveTo(e);
  }
  function onUp(e) {
    if (dragging === e.pointerId) dragging = null;
  }

  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  const offs = [bus.on("view", schedule), bus.on("setting", schedule)];
  schedule();

  return {
    el,
    // redraw (after the image or its adjustments changed)
    refresh: schedule,
    destroy() {
      for (const off of offs) off();
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      canvas.removeEventListener("pointerdown", onDown);
      canvas.removeEventListener("pointermove", onMove);
      canvas.removeEventListener("pointerup", onUp);
      canvas.removeEventListener("pointercancel", onUp);
    },
  };
}

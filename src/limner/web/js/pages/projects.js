// The projects page: the user's projects with their progress, and a form to create one; a new
// project opens on its label-schema editor, since labels come first.

import * as api from "../api.js";
import { fmt, h } from "../dom.js";

function progress(done, total) {
  const pct = total ? Math.round((100 * done) / total) : 0;
  return h("div.progress", { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(total), "aria-valuenow": String(done), title: `${fmt.format(done)} of ${fmt.format(total)} assets done` },
    h("div.progress-fill", { style: { width: `${pct}%` } }),
  );
}

function projectRow(p) {
  const total = p.asset_count || 0, done = p.done_count || 0;
  const pct = total ? Math.round((100 * done) / total) : 0;
  return h("li.project-row", { dataset: { id: p.id } },
    h("div.project-main", {},
      h("a.project-name", { href: `#/projects/${p.id}` }, p.name),
      h("span.role-badge", { title: "your role in this project" }, p.role || ""),
      p.description ? h("p.project-desc", {}, p.description) : null,
    ),
    h("div.project-stats", {},
      h("span", {}, h("b", {}, fmt.format(total)), " assets"),
      h("span", {}, h("b", {}, fmt.format(done)), " done"),
      h("span", {}, h("b", {}, fmt.format(p.shape_count || 0)), " shapes"),
    ),
    h("div.project-progress", {}, progress(done, total), h("span.pct", {}, `${pct}%`)),
  );
}

export function mount(root, { app, signal }) {
  app.setCrumbs([{ text: "Projects" }]);
  const list = h("ul.project-list", { id: "project-list", "aria-busy": "true" });
  const count = h("span.muted");

  const name = h("input", { id: "new-project-name", name: "name", required: true, maxlength: "200", placeholder: "e.g. Street scenes" });
  const description = h("textarea", { id: "new-project-description", name: "description", rows: "3", placeholder: "What is labelled here, and how" });
  const error = h("p.form-error", { role: "alert" });
  const submit = h("button.primary", { type: "submit" }, "Create project");

  async function create(e) {
    e.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      const p = await api.post("/projects", { name: name.value, description: description.value }, { signal });
      app.navigate(`#/projects/${p.id}?schema=new`);
    } catch (err) {
      if (!api.isQuiet(err)) error.textContent = api.message(err);
    } finally {
      submit.disabled = false;
    }
  }

  async function load() {
    try {
      const data = await api.get("/projects", null, { signal });
      list.removeAttribute("aria-busy");
      count.textContent = data.total === 1 ? "1 project" : `${fmt.format(data.total)} projects`;
      if (!data.items.length) {
        list.replaceChildren(h("li.empty", {}, "No projects yet: create the first one with the form."));
      } else {
        list.replaceChildren(...data.items.map(projectRow));
      }
    } catch (err) {
      list.removeAttribute("aria-busy");
      api.report(err);
    }
  }

  root.append(
    h("section.page.projects-page", {},
      h("div.page-main", {},
        h("div.page-head", {}, h("h1", {}, "Projects"), count),
        list,
      ),
      h("aside.page-side", {},
        h("form.card.new-project", { onsubmit: create },
          h("h2", {}, "New project"),
          h("label", { for: "new-project-name" }, "Name"),
          name,
          h("label", { for: "new-project-description" }, "Description ", h("span.muted", {}, "(optional)")),
          description,
          submit,
          error,
        ),
      ),
    ),
  );
  load();
}

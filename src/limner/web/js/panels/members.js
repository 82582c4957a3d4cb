// A project's members with their roles; managers add people by username and change roles.

import * as api from "../api.js";
import { h } from "../dom.js";

export const ROLES = ["viewer", "annotator", "reviewer", "manager", "owner"];
export const atLeast = (role, needed) => ROLES.indexOf(role) >= ROLES.indexOf(needed) && ROLES.includes(role);

// ctx: {projectId, role (the current user's), signal}
export function membersPanel({ projectId, role, signal }) {
  const canEdit = atLeast(role, "manager");
  // only an owner may grant or take away the owner role
  const grantable = ROLES.filter((r) => r !== "owner" || role === "owner");
  const list = h("ul.member-list", { id: "member-list" }, h("li.muted", {}, "Loading…"));
  const error = h("p.form-error", { role: "alert" });

  function roleSelect(member) {
    const locked = member.role === "owner" && role !== "owner";
    const options = locked ? ["owner"] : grantable;
    const select = h("select.role-select", { "aria-label": `Role of ${member.username}`, disabled: locked },
      options.map((r) => h("option", { value: r, selected: r === member.role }, r)),
    );
    select.addEventListener("change", async () => {
      error.textContent = "";
      const was = member.role;
      select.disabled = true;
      try {
        const updated = await api.patch(`/projects/${projectId}/members/${member.user_id}`, { role: select.value }, { signal });
        member.role = updated.role;
      } catch (err) {
        select.value = was;
        if (!api.isQuiet(err)) error.textContent = api.message(err);
      } finally {
        select.disabled = false;
      }
    });
    return select;
  }

  function render(members) {
    list.replaceChildren(
      ...members.map((m) =>
        h("li.member-row", { dataset: { username: m.username } },
          h("span.member-name", { title: m.username }, m.display_name || m.username,
            m.display_name && m.display_name !== m.username ? h("span.muted", {}, ` @${m.username}`) : null),
          canEdit ? roleSelect(m) : h("span.role-badge", {}, m.role),
        ),
      ),
    );
    if (!members.length) list.append(h("li.muted", {}, "No members."));
  }

  async function load() {
    try {
      render((await api.get(`/projects/${projectId}/members`, null, { signal })).items);
    } catch (err) {
      list.replaceChildren(h("li.muted", {}, "Members could not be loaded."));
      api.report(err);
    }
  }

  let form = null;
  if (canEdit) {
    const username = h("input", { name: "username", id: "member-username", placeholder: "username", required: true, list: "member-users", autocomplete: "off" });
    const newRole = h("select", { name: "role", id: "member-role", "aria-label": "Role" },
      grantable.map((r) => h("option", { value: r, selected: r === "annotator" }, r)),
    );
    const users = h("datalist", { id: "member-users" });
    const add = h("button", { type: "submit" }, "Add");
    form = h("form.member-add", {
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = "";
        add.disabled = true;
        try {
          await api.post(`/projects/${projectId}/members`, { username: username.value.trim(), role: newRole.value }, { signal });
          username.value = "";
          await load();
        } catch (err) {
          if (!api.isQuiet(err)) error.textContent = api.message(err);
        } finally {
          add.disabled = false;
        }
      },
    }, username, newRole, add, users);
    // suggestions for the username box; failing to get them is harmless
    api.get("/users", null, { signal })
      .then((d) => users.replaceChildren(...d.items.filter((u) => u.is_active !== false).map((u) => h("option", { value: u.username }, u.display_name || ""))))
      .catch(() => {});
  }

  load();
  return h("section.panel.members-panel", { id: "members-panel" },
    h("h2", {}, "Members"),
    list,
    form,
    error,
  );
}

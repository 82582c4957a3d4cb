// A tiny named event bus: modules talk through named events instead of reaching into each other.
//
//   const off = bus.on("auth:required", (detail) => ...);
//   bus.emit("auth:required", { detail: "log in first" });
//   off();   // or bus.off("auth:required", handler)
//
// Events in use (name → payload):
//   auth:required   {detail}        an API call answered 401 (api.js); main.js shows the login page
//   auth:login      user            the login form succeeded (pages/login.js)
//   auth:logout     null            the user logged out (main.js)
//   jobs:changed    {projectId}     a job was started or has finished (dialogs/); the jobs panel refreshes

export function createBus() {
  const handlers = new Map();

  function off(name, fn) {
    const set = handlers.get(name);
    if (set) {
      set.delete(fn);
      if (set.size === 0) handlers.delete(name);
    }
  }

  function on(name, fn) {
    if (!handlers.has(name)) handlers.set(name, new Set());
    handlers.get(name).add(fn);
    return () => off(name, fn);
  }

  function emit(name, payload) {
    const set = handlers.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        // one failing listener must not silence the others
        console.error(`bus: a listener of "${name}" failed`, err);
      }
    }
  }

  return { on, off, emit };
}

// The application's one bus.
export const bus = createBus();

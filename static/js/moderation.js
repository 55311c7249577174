// Review queue: keyboard shortcuts and per-row / bulk decisions. Every decision is posted by
// htmx from the one decision form (with its CSRF token); the server answers with the new queue.
const KEYS = { a: "approve", r: "reject", h: "hide", u: "restore" };
const KIND_OF_ACTION = { reject: "prompt", hide: "clip", restore: "clip" };
let current = 0;

const items = () => [...document.querySelectorAll("#queue [data-item]")];
const form = () => document.getElementById("decision-form");

function focusItem(index) {
  const list = items();
  if (!list.length) return;
  current = Math.max(0, Math.min(index, list.length - 1));
  list.forEach((el, i) => el.classList.toggle("current", i === current));
  list[current].focus({ preventScroll: false });
}

function submit(action, targets) {
  const f = form();
  const reason = f.querySelector("[name=reason]");
  if (!reason.value.trim() || reason.value.trim().length < 3) {
    reason.focus();
    reason.reportValidity();
    return;
  }
  const kinds = new Set(targets.map((el) => el.dataset.kind));
  const kind = KIND_OF_ACTION[action] || (kinds.size === 1 ? [...kinds][0] : null);
  const chosen = targets.filter((el) => el.dataset.kind === kind);
  if (!kind || !chosen.length) return;
  f.querySelectorAll("input[name=ids]").forEach((el) => el.remove());
  f.querySelector("[name=kind]").value = kind;
  f.querySelector("[name=action]").value = action;
  for (const el of chosen) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "ids";
    input.value = el.dataset.id;
    f.append(input);
  }
  window.htmx.trigger(f, "submit");
}

function selected() {
  return items().filter((el) => el.querySelector("[data-select]")?.checked);
}

document.addEventListener("click", (event) => {
  const act = event.target.closest("[data-act]");
  if (act) {
    submit(act.dataset.act, [act.closest("[data-item]")]);
    return;
  }
  const bulk = event.target.closest("[data-bulk]");
  if (bulk) submit(bulk.dataset.bulk, selected());
});

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, textarea, select") || event.metaKey || event.ctrlKey || event.altKey) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const list = items();
  if (event.key === "j") focusItem(current + 1);
  else if (event.key === "k") focusItem(current - 1);
  else if (event.key === "x" && list[current]) {
    const box = list[current].querySelector("[data-select]");
    box.checked = !box.checked;
  } else if (event.key === "/") {
    event.preventDefault();
    form().querySelector("[name=reason]").focus();
  } else if (KEYS[event.key] && list[current]) {
    const chosen = selected();
    submit(KEYS[event.key], chosen.length ? chosen : [list[current]]);
  } else return;
  event.preventDefault();
});

document.addEventListener("htmx:afterSwap", () => focusItem(current));

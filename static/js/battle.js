// The blind vote page: one synchronized transport for both clips, voting unlocked only after
// each clip has played through once, keyboard shortcuts, watch times sent with the vote (as
// extra data: the server counts a vote only if the clips were fetched at least their duration
// before it, less ARENA_WATCH_TOLERANCE_S = 0.5 s, so the buttons unlock a little later than that).
import { attachAll } from "./sync-player.js";

const UNLOCK_BEFORE_END_S = 0.25;

function setUp(root) {
  const [player] = attachAll(root);
  const form = root.querySelector("[data-vote-form]");
  if (!player || !form) return;
  const buttons = [...form.querySelectorAll("button.vote")];
  const hint = form.querySelector("[data-vote-hint]");
  let unlocked = false;

  root.addEventListener("sync:watched", (event) => {
    const { watched, durations } = event.detail;
    form.elements.watched_left_s.value = watched[0].toFixed(2);
    form.elements.watched_right_s.value = watched[1].toFixed(2);
    const done = watched.every((w, i) => Number.isFinite(durations[i]) && w >= durations[i] - UNLOCK_BEFORE_END_S);
    if (done && !unlocked) {
      unlocked = true;
      for (const b of buttons) b.disabled = false;
      // A touch screen has no keys 1-4 to press: name them only where a keyboard is likely.
      hint.textContent = matchMedia("(hover: none) and (pointer: coarse)").matches
        ? "Your vote: tap a button."
        : "Your vote: use the buttons or keys 1, 2, 3, 4.";
    } else if (!done) {
      const left = Math.min(...watched.map((w, i) => (durations[i] ? w / durations[i] : 0)));
      hint.textContent = `Voting unlocks once both clips have played through once (${Math.round(Math.min(left, 1) * 100)}%).`;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea, details") || event.metaKey || event.ctrlKey || event.altKey) return;
    const next = document.querySelector("[data-next]");
    if (next && event.key === "Enter") { next.click(); return; }
    if (event.key === " ") { event.preventDefault(); player.toggle(); return; }
    if (event.key === ",") { player.step(-1 / 24); return; }
    if (event.key === ".") { player.step(1 / 24); return; }
    const button = buttons.find((b) => b.dataset.keys.split(" ").includes(event.key.length === 1 ? event.key.toLowerCase() : event.key));
    if (button && !button.disabled && form.isConnected) {
      event.preventDefault();
      button.click(); // a real click, so htmx sends this button's name=value with the form
    }
  });

  player.play();
}

function init() {
  // The pool picker switches pools at once (a handler here: the CSP allows no inline one).
  for (const select of document.querySelectorAll("select[data-submit-on-change]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  const root = document.querySelector("[data-battle]");
  if (root) setUp(root);
  for (const select of document.querySelectorAll("[data-submit-on-change]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // A battle whose clips were still being prepared is swapped in by htmx when ready.
  document.body.addEventListener("htmx:load", (event) => {
    const battle = event.detail.elt;
    if (battle.matches && battle.matches("[data-battle]")) setUp(battle);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();

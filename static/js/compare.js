// The comparison page: one SyncPlayer for the grid and the wipe, the wipe slider, the deep
// link (prompt + models + time) kept current, and `t` from the link applied on load.
import { attachAll } from "./sync-player.js";

function setupWipe(root, player) {
  const stage = root.querySelector("[data-wipe-stage]");
  const slider = root.querySelector("[data-wipe-slider]");
  if (!stage || !slider) return;
  const over = stage.querySelector('[data-wipe-video="over"]');
  const under = stage.querySelector('[data-wipe-video="under"]');
  const handle = stage.querySelector("[data-wipe-handle]");
  const sources = [...root.querySelectorAll("[data-wipe-sources] li")];
  const labels = sources.map((li) => li.textContent);
  const picks = { under: root.querySelector('[data-wipe-pick="under"]'), over: root.querySelector('[data-wipe-pick="over"]') };

  const apply = () => {
    const pct = Math.max(0, Math.min(100, parseFloat(slider.value) || 0));
    over.style.clipPath = `inset(0 0 0 ${pct}%)`;
    handle.style.left = `${pct}%`;
    const left = labels[picks.under?.value] ?? "left clip";
    const right = labels[picks.over?.value] ?? "right clip";
    slider.setAttribute("aria-valuetext", `${pct}% ${left}, ${100 - pct}% ${right}`);
  };
  slider.addEventListener("input", apply);

  // Drag anywhere on the stage; the range input stays the keyboard control.
  let dragging = false;
  const fromPointer = (event) => {
    const box = stage.getBoundingClientRect();
    slider.value = String(Math.round(((event.clientX - box.left) / box.width) * 100));
    apply();
  };
  stage.addEventListener("pointerdown", (event) => { dragging = true; stage.setPointerCapture(event.pointerId); fromPointer(event); });
  stage.addEventListener("pointermove", (event) => { if (dragging) fromPointer(event); });
  stage.addEventListener("pointerup", () => { dragging = false; });
  stage.addEventListener("pointercancel", () => { dragging = false; });

  for (const [role, select] of Object.entries(picks)) {
    const video = role === "over" ? over : under;
    select?.addEventListener("change", () => {
      const src = sources[parseInt(select.value, 10)]?.dataset.src;
      if (!src || video.getAttribute("src") === src) return;
      const wasPlaying = !player.paused;
      video.addEventListener("loadedmetadata", () => {
        video.currentTime = Math.min(player.leader.currentTime, video.duration || 0);
        video.playbackRate = player.rate;
        if (wasPlaying) video.play().catch(() => {});
      }, { once: true });
      video.src = src;
      apply();
    });
  }
  apply();
}

function setupShareLink(root, player) {
  const link = root.querySelector("[data-share-link]");
  if (!link) return;
  const update = () => {
    const params = new URLSearchParams({ models: root.dataset.models });
    const t = player.leader.currentTime;
    if (t > 0) params.set("t", t.toFixed(2));
    link.href = `${root.dataset.shareBase}?${params.toString().replaceAll("%2C", ",")}`;
  };
  for (const event of ["seeked", "pause", "timeupdate"]) player.leader.addEventListener(event, update);
  update();
}

function applyStartTime(root, player) {
  const start = parseFloat(root.dataset.start) || 0;
  if (start <= 0) return;
  const go = () => player.seekTo(start);
  const pending = player.videos.filter((v) => v.readyState < 1);
  if (!pending.length) { go(); return; }
  let left = pending.length;
  for (const v of pending) v.addEventListener("loadedmetadata", () => { if (--left === 0) go(); }, { once: true });
}

for (const root of document.querySelectorAll("[data-compare]")) {
  const [player] = attachAll(root.parentElement);
  setupWipe(root, player);
  setupShareLink(root, player);
  applyStartTime(root, player);
}

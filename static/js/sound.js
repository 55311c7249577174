// Sound on the gallery's pages: every <video> starts muted, and only one is audible at a time.
// Unmuting one, by its own controls or by a [data-sound-toggle] button, mutes every other
// video on the page (the compare view's grid and wipe, a prompt's clips of several models).
//
// Markup: a button [data-sound-toggle] inside an element [data-sound-scope] toggles the sound
// of the first <video> in that scope; its aria-pressed says whether that video is audible.
// Videos added later (htmx swaps of job cards) are covered: the listeners sit on the document.

function audible(video) {
  return !video.muted && video.volume > 0;
}

function videoOf(button) {
  return button.closest("[data-sound-scope]")?.querySelector("video") ?? null;
}

function renderButtons(doc) {
  for (const button of doc.querySelectorAll("[data-sound-toggle]")) {
    const video = videoOf(button);
    button.setAttribute("aria-pressed", String(Boolean(video && audible(video))));
  }
}

function muteAllBut(doc, video) {
  for (const other of doc.querySelectorAll("video, audio")) {
    if (other !== video && !other.muted) other.muted = true;
  }
}

export function oneVoice(doc = document) {
  // Media events do not bubble: listen in the capture phase.
  doc.addEventListener("volumechange", (event) => {
    const video = event.target;
    if (!(video instanceof HTMLMediaElement)) return;
    if (audible(video)) muteAllBut(doc, video);
    renderButtons(doc);
  }, true);
  doc.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-sound-toggle]");
    if (!button || button.disabled) return;
    const video = videoOf(button);
    if (!video) return;
    if (audible(video)) {
      video.muted = true;
    } else {
      if (video.volume === 0) video.volume = 1;
      video.muted = false;
      muteAllBut(doc, video);
    }
    // volumechange arrives as a later task: the buttons say the new state at once.
    renderButtons(doc);
  });
  for (const video of doc.querySelectorAll("video")) video.muted = true;
  renderButtons(doc);
}

oneVoice();

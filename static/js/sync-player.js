// One transport for several <video> elements: play/pause, seek, loop, speed; followers are
// kept within a frame or two of the leader. Also measures how much of each clip was actually
// watched (played forward, not skipped by seeking), which the blind vote page needs.
//
// Markup: a container with [data-sync-player] holding <video data-sync-video> elements and
// optional controls: [data-sync-play], [data-sync-seek] (input type=range), [data-sync-time],
// [data-sync-loop] (checkbox), [data-sync-speed] (select), [data-sync-step="-1"|"1"] (frame
// step buttons; the frame length comes from the container's data-frame, default 1/24 s).
// Keys inside the container: "," and "." step a frame, "k" plays/pauses. Emits "sync:watched" on the
// container whenever the watched times change: detail = {watched: [...], durations: [...]}.

const DRIFT_HARD_S = 0.1;     // beyond this a follower jumps to the leader
const DRIFT_SOFT_S = 0.02;    // beyond this its rate is nudged
const NUDGE = 0.03;           // +-3% playback rate while catching up
const TICK_MS = 200;

function formatTime(seconds) {
  if (!Number.isFinite(seconds)) return "0:00.0";
  const m = Math.floor(seconds / 60);
  const s = (seconds % 60).toFixed(1).padStart(4, "0");
  return `${m}:${s}`;
}

export class SyncPlayer {
  constructor(root) {
    this.root = root;
    this.videos = [...root.querySelectorAll("video[data-sync-video]")];
    this.leader = this.videos[0];
    this.playBtn = root.querySelector("[data-sync-play]");
    this.seek = root.querySelector("[data-sync-seek]");
    this.timeLabel = root.querySelector("[data-sync-time]");
    this.loopBox = root.querySelector("[data-sync-loop]");
    this.speedSelect = root.querySelector("[data-sync-speed]");
    this.stepButtons = [...root.querySelectorAll("[data-sync-step]")];
    this.frameS = parseFloat(root.dataset.frame) || 1 / 24;
    this.rate = 1;
    this.watched = this.videos.map(() => 0);
    this.lastTime = this.videos.map(() => 0);
    this.scrubbing = false;
    this.bind();
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  get duration() {
    const ds = this.videos.map((v) => v.duration).filter(Number.isFinite);
    return ds.length ? Math.max(...ds) : 0;
  }

  get paused() { return this.leader.paused; }

  bind() {
    for (const [i, video] of this.videos.entries()) {
      video.muted = true;
      video.playsInline = true;
      video.controls = false;
      video.loop = this.loopBox ? this.loopBox.checked : false;
      video.addEventListener("timeupdate", () => this.track(i));
      video.addEventListener("loadedmetadata", () => this.render());
      video.addEventListener("ended", () => this.onEnded());
      video.addEventListener("click", () => this.toggle());
    }
    this.playBtn?.addEventListener("click", () => this.toggle());
    this.loopBox?.addEventListener("change", () => {
      for (const v of this.videos) v.loop = this.loopBox.checked;
    });
    this.speedSelect?.addEventListener("change", () => this.setRate(parseFloat(this.speedSelect.value)));
    for (const button of this.stepButtons) {
      button.addEventListener("click", () => this.stepFrames(parseInt(button.dataset.syncStep, 10) || 1));
    }
    if (this.stepButtons.length) {
      this.root.addEventListener("keydown", (event) => {
        if (event.target.matches("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
        if (event.key === "," || event.key === ".") {
          event.preventDefault();
          this.stepFrames(event.key === "," ? -1 : 1);
        } else if (event.key === "k") {
          event.preventDefault();
          this.toggle();
        }
      });
    }
    if (this.seek) {
      this.seek.addEventListener("input", () => {
        this.scrubbing = true;
        this.seekTo((parseFloat(this.seek.value) / 1000) * this.duration);
      });
      this.seek.addEventListener("change", () => { this.scrubbing = false; });
    }
  }

  // Forward play only: a seek or a loop wrap-around is not "watching".
  track(i) {
    const video = this.videos[i];
    const t = video.currentTime;
    const delta = t - this.lastTime[i];
    this.lastTime[i] = t;
    if (!video.seeking && !video.paused && delta > 0 && delta < 1.0) {
      this.watched[i] += delta;
      this.root.dispatchEvent(new CustomEvent("sync:watched", {
        bubbles: true,
        detail: { watched: [...this.watched], durations: this.videos.map((v) => v.duration) },
      }));
    }
  }

  async play() {
    const t = this.leader.currentTime;
    for (const v of this.videos) {
      if (Math.abs(v.currentTime - t) > DRIFT_HARD_S && t <= (v.duration || t)) v.currentTime = t;
    }
    await Promise.allSettled(this.videos.map((v) => v.play()));
    this.render();
  }

  pause() {
    for (const v of this.videos) v.pause();
    const t = this.leader.currentTime;
    for (const v of this.videos.slice(1)) if (t <= v.duration) v.currentTime = t;
    this.render();
  }

  toggle() { return this.paused ? this.play() : this.pause(); }

  seekTo(seconds) {
    const t = Math.max(0, Math.min(seconds, this.duration || 0));
    for (const [i, v] of this.videos.entries()) {
      v.currentTime = Math.min(t, v.duration || t);
      this.lastTime[i] = v.currentTime;
    }
    this.render();
  }

  step(seconds) { this.seekTo(this.leader.currentTime + seconds); }

  // Frame step: pause everything, then move by whole frames of the fastest clip.
  stepFrames(frames) {
    if (!this.paused) this.pause();
    this.step(frames * this.frameS);
  }

  setRate(rate) {
    this.rate = rate;
    for (const v of this.videos) v.playbackRate = rate;
    if (this.speedSelect) this.speedSelect.value = String(rate);
  }

  onEnded() {
    // Without loop, stop all together when the leader ends.
    if (this.videos.every((v) => v.ended || v.paused)) this.pause();
  }

  // Drift correction: followers chase the leader's clock.
  tick() {
    if (!this.paused) {
      const t = this.leader.currentTime;
      for (const v of this.videos.slice(1)) {
        if (v.seeking || !Number.isFinite(v.duration) || t > v.duration) continue;
        const drift = v.currentTime - t;
        if (Math.abs(drift) > DRIFT_HARD_S) {
          v.currentTime = t;
          v.playbackRate = this.rate;
        } else if (Math.abs(drift) > DRIFT_SOFT_S) {
          v.playbackRate = this.rate * (drift > 0 ? 1 - NUDGE : 1 + NUDGE);
        } else {
          v.playbackRate = this.rate;
        }
        if (v.paused && !v.ended) v.play().catch(() => {});
      }
    }
    this.render();
  }

  maxDrift() {
    const t = this.leader.currentTime;
    return Math.max(0, ...this.videos.slice(1).map((v) => Math.abs(v.currentTime - t)));
  }

  render() {
    const t = this.leader.currentTime;
    if (this.timeLabel) this.timeLabel.textContent = `${formatTime(t)} / ${formatTime(this.duration)}`;
    if (this.seek && !this.scrubbing && this.duration) this.seek.value = String(Math.round((t / this.duration) * 1000));
    if (this.playBtn) {
      this.playBtn.textContent = this.paused ? "Play" : "Pause";
      this.playBtn.setAttribute("aria-pressed", String(!this.paused));
    }
  }
}

export function attachAll(scope = document) {
  const players = [];
  for (const root of scope.querySelectorAll("[data-sync-player]")) {
    if (!root.syncPlayer) root.syncPlayer = new SyncPlayer(root);
    players.push(root.syncPlayer);
  }
  return players;
}

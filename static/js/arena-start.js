// The arena's start page: solve the entry check in a worker, then enable "Start voting".
function init() {
  const form = document.querySelector("[data-arena-start]");
  if (!form) return;
  const status = form.querySelector("[data-start-status]");
  const button = form.querySelector("[data-start-button]");
  const worker = new Worker(form.dataset.worker, { type: "module" });
  const started = performance.now();
  worker.onmessage = (event) => {
    form.elements.solution.value = event.data.solution;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    status.textContent = `Ready (the check took ${seconds} s).`;
    button.disabled = false;
    button.focus();
    worker.terminate();
  };
  worker.onerror = () => {
    status.textContent = "The check could not run in this browser. Reload the page to try again.";
  };
  worker.postMessage({ nonce: form.dataset.nonce, bits: Number(form.dataset.bits) });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();

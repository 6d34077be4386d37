// Keyboard shortcuts and the photo viewer. Plain JavaScript: no build step.
(() => {
  "use strict";
  const typing = (e) => ["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName);

  // --- keys: every button with data-key is pressed by its key (when not typing in a field) ---
  const form = document.getElementById("act");
  const reject = document.getElementById("reject");
  const reading = document.getElementById("reading");
  let rejecting = false;

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === "Escape") e.target.blur();
      if (e.target === reading && e.key === "Enter") {
        e.preventDefault();
        document.getElementById("correct").click();
      }
      return;
    }
    const key = e.key.toLowerCase();
    if (rejecting && /^[1-9]$/.test(key)) {
      const choice = reject.querySelector(`[data-reject="${key}"]`);
      if (choice) { e.preventDefault(); choice.click(); }
      return;
    }
    if (form && key === "c") { e.preventDefault(); reading.focus(); return; }
    if (form && key === "r") {
      e.preventDefault();
      rejecting = !rejecting;
      reject.classList.toggle("open", rejecting);
      return;
    }
    const button = document.querySelector(`button[data-key="${key}"]:not(:disabled)`);
    if (button) { e.preventDefault(); button.click(); return; }
    viewerKey(key, e);
  });

  // --- the photo: zoom, pan, rotate, with the display's quad drawn on it ---
  const stage = document.getElementById("stage");
  const frame = document.getElementById("frame");
  const photo = document.getElementById("photo");
  const overlay = document.getElementById("overlay");
  const view = { scale: 1, x: 0, y: 0, angle: 0 };

  function fit() {
    if (!photo || !photo.naturalWidth) return;
    const s = Math.min(stage.clientWidth / photo.naturalWidth, stage.clientHeight / photo.naturalHeight);
    Object.assign(view, { scale: s, angle: 0,
      x: (stage.clientWidth - photo.naturalWidth * s) / 2, y: (stage.clientHeight - photo.naturalHeight * s) / 2 });
    apply();
  }
  function apply() {
    const w = photo.naturalWidth, h = photo.naturalHeight;
    frame.style.transform =
      `translate(${view.x}px, ${view.y}px) scale(${view.scale}) rotate(${view.angle}deg)`;
    frame.style.transformOrigin = view.angle ? `${w / 2}px ${h / 2}px` : "0 0";
  }
  function zoom(factor, cx, cy) {
    const next = Math.min(Math.max(view.scale * factor, 0.05), 20);
    const f = next / view.scale;
    view.x = cx - (cx - view.x) * f;
    view.y = cy - (cy - view.y) * f;
    view.scale = next;
    apply();
  }
  function viewerKey(key, e) {
    if (!photo) return;
    const cx = stage.clientWidth / 2, cy = stage.clientHeight / 2;
    const actions = { "+": () => zoom(1.25, cx, cy), "=": () => zoom(1.25, cx, cy), "-": () => zoom(0.8, cx, cy),
      "[": () => { view.angle -= 90; apply(); }, "]": () => { view.angle += 90; apply(); }, "0": fit };
    if (actions[key]) { e.preventDefault(); actions[key](); }
  }
  if (photo) {
    const ready = () => {
      if (overlay) {
        overlay.setAttribute("viewBox", `0 0 ${photo.naturalWidth} ${photo.naturalHeight}`);
        overlay.style.width = `${photo.naturalWidth}px`;
        overlay.style.height = `${photo.naturalHeight}px`;
        const quad = JSON.parse(overlay.dataset.quad);
        overlay.querySelector("polygon").setAttribute("points", quad.map((p) => p.join(",")).join(" "));
      }
      fit();
    };
    if (photo.complete && photo.naturalWidth) ready(); else photo.addEventListener("load", ready);
    stage.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = stage.getBoundingClientRect();
      zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null;
    stage.addEventListener("pointerdown", (e) => { drag = { x: e.clientX - view.x, y: e.clientY - view.y }; stage.setPointerCapture(e.pointerId); });
    stage.addEventListener("pointermove", (e) => { if (drag) { view.x = e.clientX - drag.x; view.y = e.clientY - drag.y; apply(); } });
    stage.addEventListener("pointerup", () => { drag = null; });
  }
})();

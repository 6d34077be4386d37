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
    if (marking) { markKey(e); return; }
    if (key === "m" && markForm) { e.preventDefault(); startMark(); return; }
    if (key === "g" && regionButtons.length > 1) { e.preventDefault(); nextRegion(); return; }
    if (key === "enter" && highlighted !== null && !regionButtons[highlighted].classList.contains("current")) {
      e.preventDefault();
      regionButtons[highlighted].click();  // the reader reads the register there
      return;
    }
    if (form && key === "c") { e.preventDefault(); startCorrection(); return; }
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

  // C: the correction starts from the typed value, the first figure that differs from the reader's selected,
  // so a typing mistake of one figure is fixed with one key and Enter.
  function startCorrection() {
    if (!reading.value) {
      const typed = reading.dataset.typed || "", shown = reading.dataset.reader || "";
      let i = 0;
      while (i < typed.length && typed[i] === shown[i]) i++;
      reading.value = typed;
      reading.focus();
      reading.setSelectionRange(i, Math.min(i + 1, typed.length));
    } else reading.focus();
  }

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
  let quad = overlay ? JSON.parse(overlay.dataset.quad) : null;

  // --- other regions: G outlines the next one (the straightened view follows), Enter has it read ---
  const regionButtons = [...document.querySelectorAll("#regions button.region")];
  const regionImage = document.getElementById("region-image");
  let highlighted = null;
  function nextRegion() {
    const current = regionButtons.findIndex((b) => b.classList.contains("current"));
    const from = highlighted === null ? current : highlighted;
    highlighted = (from + 1) % regionButtons.length;
    regionButtons.forEach((b, i) => b.classList.toggle("highlighted", i === highlighted));
    quad = JSON.parse(regionButtons[highlighted].dataset.quad);
    drawQuad();
    if (regionImage) regionImage.src = regionButtons[highlighted].querySelector("img").src;
    focusRegister();
  }
  // --- M: the reviewer marks where the register is (a drag, or the keyboard), and the reader reads it there ---
  const markForm = document.getElementById("mark");
  const markHelp = document.getElementById("mark-help");
  let marking = false, markBox = null;  // photo pixels: {x0, y0, x1, y1}
  function startMark() {
    marking = true;
    if (view.angle) { view.angle = 0; apply(); }  // boxes are drawn on the upright photo
    const w = photo.naturalWidth, h = photo.naturalHeight;
    markBox = quad ? quadBox() : { x0: w * 0.3, y0: h * 0.4, x1: w * 0.7, y1: h * 0.5 };
    stage.classList.add("marking");
    markHelp.hidden = false;
    drawMark();
  }
  function stopMark() {
    marking = false; markBox = null;
    stage.classList.remove("marking");
    markHelp.hidden = true;
    drawMark();
  }
  function drawMark() {
    const poly = overlay.querySelector("polygon.marking");
    if (!markBox) { poly.setAttribute("points", ""); return; }
    const b = markBox;
    poly.setAttribute("points", `${b.x0},${b.y0} ${b.x1},${b.y0} ${b.x1},${b.y1} ${b.x0},${b.y1}`);
  }
  function submitMark() {
    const b = markBox;
    markForm.elements.quad.value = JSON.stringify([[b.x0, b.y0], [b.x1, b.y0], [b.x1, b.y1], [b.x0, b.y1]]
      .map((p) => p.map((v) => Math.round(v * 10) / 10)));
    markForm.submit();
  }
  function markKey(e) {
    const b = markBox, step = Math.max(2, 0.05 * Math.max(b.x1 - b.x0, b.y1 - b.y0));
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === "Escape") { e.preventDefault(); stopMark(); return; }
    if (e.key === "Enter") { e.preventDefault(); submitMark(); return; }
    if (moves[e.key]) {
      e.preventDefault();
      const [dx, dy] = moves[e.key];
      if (e.shiftKey) { b.x1 = Math.max(b.x0 + 4, b.x1 + dx); b.y1 = Math.max(b.y0 + 4, b.y1 + dy); }
      else { b.x0 += dx; b.x1 += dx; b.y0 += dy; b.y1 += dy; }
      drawMark();
      return;
    }
    viewerKey(e.key.toLowerCase(), e);
  }
  function photoPoint(e) {  // a pointer position in photo pixels (the photo is upright while marking)
    const r = stage.getBoundingClientRect();
    return [(e.clientX - r.left - view.x) / view.scale, (e.clientY - r.top - view.y) / view.scale];
  }
  if (markForm) document.getElementById("mark-start").addEventListener("click", startMark);

  function drawQuad() {
    if (overlay && quad) overlay.querySelector("polygon").setAttribute("points", quad.map((p) => p.join(",")).join(" "));
  }
  function quadBox() {
    const xs = quad.map((p) => p[0]), ys = quad.map((p) => p[1]);
    return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
  }
  // Z: the outlined register fills the view, with a margin to see what is beside it.
  function focusRegister() {
    if (!quad) return fit();
    const b = quadBox();
    const s = Math.min(stage.clientWidth / ((b.x1 - b.x0) * 1.4), stage.clientHeight / ((b.y1 - b.y0) * 2.2), 20);
    Object.assign(view, { scale: s, angle: 0,
      x: stage.clientWidth / 2 - ((b.x0 + b.x1) / 2) * s, y: stage.clientHeight / 2 - ((b.y0 + b.y1) / 2) * s });
    apply();
  }
  function viewerKey(key, e) {
    if (!photo) return;
    // + and - zoom about the outlined register when there is one (and the photo is upright), else the middle.
    let cx = stage.clientWidth / 2, cy = stage.clientHeight / 2;
    if (quad && !view.angle) {
      const b = quadBox();
      cx = view.x + ((b.x0 + b.x1) / 2) * view.scale;
      cy = view.y + ((b.y0 + b.y1) / 2) * view.scale;
    }
    const actions = { "+": () => zoom(1.25, cx, cy), "=": () => zoom(1.25, cx, cy), "-": () => zoom(0.8, cx, cy),
      "[": () => { view.angle -= 90; apply(); }, "]": () => { view.angle += 90; apply(); }, "0": fit,
      "z": focusRegister };
    if (actions[key]) { e.preventDefault(); actions[key](); }
  }
  if (photo) {
    const ready = () => {
      if (overlay) {
        overlay.setAttribute("viewBox", `0 0 ${photo.naturalWidth} ${photo.naturalHeight}`);
        overlay.style.width = `${photo.naturalWidth}px`;
        overlay.style.height = `${photo.naturalHeight}px`;
        drawQuad();
      }
      fit();
    };
    if (photo.complete && photo.naturalWidth) ready(); else photo.addEventListener("load", ready);
    stage.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = stage.getBoundingClientRect();
      zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    let drag = null, drawFrom = null;
    stage.addEventListener("pointerdown", (e) => {
      stage.setPointerCapture(e.pointerId);
      if (marking) { drawFrom = photoPoint(e); return; }
      drag = { x: e.clientX - view.x, y: e.clientY - view.y };
    });
    stage.addEventListener("pointermove", (e) => {
      if (drawFrom) {
        const [x, y] = photoPoint(e), [x0, y0] = drawFrom;
        markBox = { x0: Math.min(x0, x), y0: Math.min(y0, y), x1: Math.max(x0, x), y1: Math.max(y0, y) };
        drawMark();
      } else if (drag) { view.x = e.clientX - drag.x; view.y = e.clientY - drag.y; apply(); }
    });
    stage.addEventListener("pointerup", () => { drag = null; drawFrom = null; });
  }
})();

// videosearch web page: the few things htmx does not do. No framework, no build step.
"use strict";

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

// ---- the player ------------------------------------------------------------------------
// A hit plays the original file from its start; the file comes from /media/<video id>.
function playerParts() {
  return {
    panel: document.getElementById("player-panel"),
    video: document.getElementById("player"),
    title: document.getElementById("player-title"),
    message: document.getElementById("player-message"),
    clip: document.getElementById("clip-link"),
  };
}

function seekToStart(video) {
  const start = parseFloat(video.dataset.start || "0");
  if (Math.abs(video.currentTime - start) > 0.05) video.currentTime = start;
}

function play(link) {
  const p = playerParts();
  if (!p.video) return false;
  p.message.hidden = true;
  p.video.dataset.start = link.dataset.start;
  p.video.dataset.videoId = link.dataset.videoId;
  p.video.dataset.scene = link.dataset.scene;
  p.clip.href = "/clip/" + encodeURIComponent(link.dataset.videoId) + "/" + encodeURIComponent(link.dataset.scene);
  p.title.textContent = link.dataset.title || "";
  p.panel.hidden = false;
  const source = link.dataset.media + "#t=" + link.dataset.start;
  if (p.video.getAttribute("src") === source) {
    seekToStart(p.video);
  } else {
    p.video.src = source;
  }
  p.panel.scrollIntoView({block: "nearest"});
  p.video.focus();
  const started = p.video.play();
  if (started) started.catch(() => {});  // autoplay refused: the controls are there
  return true;
}

function closePlayer() {
  const p = playerParts();
  if (!p.panel || p.panel.hidden) return false;
  p.video.pause();
  p.panel.hidden = true;
  return true;
}

function explainUnplayable() {
  const p = playerParts();
  const error = p.video.error;
  // 3: the decoder gave up on it; 4: no stream the browser can decode (e.g. MPEG-4 Part 2).
  if (error && (error.code === 3 || error.code === 4)) {
    p.message.hidden = false;
    p.video.dataset.unplayable = "true";
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a.play");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  if (play(link)) event.preventDefault();
});

function playClip() {
  // The clip export (H.264) of the scene: it starts at the scene's start.
  const p = playerParts();
  p.message.hidden = true;
  p.video.dataset.start = "0";
  delete p.video.dataset.unplayable;
  p.video.src = p.clip.href;
  const started = p.video.play();
  if (started) started.catch(() => {});
  p.video.focus();
}

function wirePlayer() {
  const p = playerParts();
  if (!p.video || p.video.dataset.wired) return;
  p.video.dataset.wired = "true";
  document.getElementById("play-clip").addEventListener("click", playClip);
  document.getElementById("close-player").addEventListener("click", closePlayer);
  p.video.addEventListener("loadedmetadata", () => seekToStart(p.video));
  p.video.addEventListener("error", explainUnplayable);
  if (p.video.dataset.videoId) {
    p.clip.href = "/clip/" + encodeURIComponent(p.video.dataset.videoId) + "/" + encodeURIComponent(p.video.dataset.scene);
  }
}

// ---- job progress ------------------------------------------------------------------------
// One server-sent event stream follows every unfinished job in the table.
let jobStream = null;

function followJobs() {
  if (jobStream) { jobStream.close(); jobStream = null; }
  const rows = document.querySelectorAll('tr.job[data-finished="false"]');
  if (!rows.length) return;
  const query = Array.from(rows, (row) => "job=" + encodeURIComponent(row.dataset.jobId)).join("&");
  jobStream = new EventSource("/index/events?" + query);
  jobStream.addEventListener("job", (event) => showJob(JSON.parse(event.data)));
  jobStream.addEventListener("job-error", (event) => {
    const data = JSON.parse(event.data);
    const row = document.getElementById("job-" + data.job_id);
    if (row) row.querySelector(".job-detail").textContent = data.message;
  });
  jobStream.addEventListener("end", () => { jobStream.close(); jobStream = null; });
}

function showJob(job) {
  const row = document.getElementById("job-" + job.job_id);
  if (!row) return;
  row.dataset.state = job.state;
  row.dataset.finished = String(job.finished);
  row.querySelector(".job-state").textContent = job.state;
  row.querySelector(".job-stage").textContent = job.finished || job.stage === "none" ? "" : job.stage.replace("_", " ");
  const bar = row.querySelector(".job-progress");
  bar.value = job.percent;
  bar.textContent = Math.round(job.percent) + " %";
  let detail = "";
  if (job.error) detail = job.error;
  else if (job.state === "cancelled") detail = "cancelled; nothing stored";
  else if (job.unchanged) detail = "unchanged";
  else if (job.skipped) detail = "already indexed";
  else if (job.frames_total && !job.finished) detail = job.frames_decoded + " / " + job.frames_total + " frames, " + counted(job.scenes_found, "scene");
  else if (job.scenes_found) detail = counted(job.scenes_found, "scene");
  row.querySelector(".job-detail").textContent = detail;
  if (job.finished) {
    const cancel = row.querySelector("button.cancel");
    if (cancel) cancel.remove();
    row.querySelector(".job-took").textContent = took((Date.parse(job.update_time) - Date.parse(job.create_time)) / 1000);
  }
}

function counted(number, word) { return number + " " + word + (number === 1 ? "" : "s"); }

function took(seconds) {  // as view.took writes it
  if (seconds < 60) return seconds.toFixed(1) + " s";
  const whole = Math.round(seconds);
  return Math.floor(whole / 60) + " min " + String(whole % 60).padStart(2, "0") + " s";
}

function localTimes(root) {  // the server writes UTC; the visitor reads their own clock
  for (const time of root.querySelectorAll("time.job-started[datetime]")) {
    const at = new Date(time.getAttribute("datetime"));
    if (!isNaN(at)) time.textContent = at.toLocaleTimeString();
  }
}

// ---- searching with an image ----------------------------------------------------------
// An image search is a multipart POST; a text-only search stays htmx's GET (a shareable URL).
function imageInput() { return document.getElementById("image"); }

function showImage(file) {
  const input = imageInput();
  const preview = document.getElementById("image-preview");
  if (!input || !preview) return;
  if (file) {
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
  }
  preview.replaceChildren();
  const chosen = input.files && input.files[0];
  document.getElementById("clear-image").hidden = !chosen;
  if (!chosen) return;
  const img = document.createElement("img");
  img.alt = "Query image: " + (chosen.name || "pasted image");
  img.src = URL.createObjectURL(chosen);
  preview.append(img);
}

function imageFrom(items) {
  for (const item of items || []) {
    const file = item.getAsFile ? (item.kind === "file" ? item.getAsFile() : null) : item;
    if (file && /^image\/(png|jpeg)$/.test(file.type)) return file;
  }
  return null;
}

// The image of the last image search, kept while the page is open, so that Back (and
// Forward) to its URL shows it again; an image cannot travel in a link.
let keptImage = null;

function formQuery(form) {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value) query.append(name, value);
  }
  query.append("image", keptImage && keptImage.name ? keptImage.name : "pasted");
  return query;
}

async function searchWithImage(form, {push = true} = {}) {
  const results = document.getElementById("results");
  const indicator = document.getElementById("searching");
  const input = imageInput();
  if (input && input.files.length) keptImage = input.files[0];
  indicator.classList.add("htmx-request");
  try {
    const answer = await fetch("/search", {
      method: "POST", body: new FormData(form),
      headers: {"X-CSRF-Token": csrfToken(), "HX-Request": "true"},
    });
    results.innerHTML = await answer.text();
    if (window.htmx) htmx.process(results);
    if (push) {
      const url = "/search?" + formQuery(form);
      if (location.pathname + location.search !== url) history.pushState({imageSearch: true}, "", url);
    }
    wire();
  } catch (error) {
    results.textContent = "The search did not reach the web server: " + error;
  } finally {
    indicator.classList.remove("htmx-request");
  }
}

// Capture phase: runs before htmx's own submit handler, which only does GETs here.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const input = imageInput();
  if (form.id !== "search-form" || !input || !input.files.length) return;
  event.preventDefault();
  event.stopPropagation();
  searchWithImage(form);
}, true);

document.addEventListener("paste", (event) => {
  const file = imageFrom(event.clipboardData && event.clipboardData.items);
  if (!file || !imageInput()) return;
  event.preventDefault();
  showImage(file);
  searchWithImage(document.getElementById("search-form"));
});

function wireImage() {
  const input = imageInput();
  if (!input || input.dataset.wired) return;
  input.dataset.wired = "true";
  input.addEventListener("change", () => {  // choosing an image is asking: search at once
    showImage(null);
    if (input.files.length) searchWithImage(document.getElementById("search-form"));
  });
  document.getElementById("clear-image").addEventListener("click", () => {
    input.value = "";
    showImage(null);
    input.focus();
  });
  const zone = document.getElementById("drop-zone");
  zone.addEventListener("dragover", (event) => event.preventDefault());
  zone.addEventListener("drop", (event) => {
    const file = imageFrom(event.dataTransfer && event.dataTransfer.files);
    if (!file) return;
    event.preventDefault();
    showImage(file);
    searchWithImage(document.getElementById("search-form"));
  });
}

// Back or Forward to an image search's URL: the kept image comes back into the form, and
// the search runs again when the page came back without its results.
function restoreImageSearch() {
  if (!new URLSearchParams(location.search).has("image") || !keptImage || !imageInput()) return;
  showImage(keptImage);
  if (!document.querySelector("#results .video-group")) searchWithImage(document.getElementById("search-form"), {push: false});
}
window.addEventListener("popstate", () => setTimeout(restoreImageSearch, 0));
document.addEventListener("htmx:historyRestore", () => { formFromUrl(); restoreImageSearch(); });

// After Back or Forward the form says what the URL asks (htmx restores the results, but a
// field's typed value is not part of the page it kept).
function formFromUrl() {
  const form = document.getElementById("search-form");
  if (!form) return;
  const query = new URLSearchParams(location.search);
  for (const field of form.querySelectorAll("input[name]:not([type=hidden]):not([type=file]), select[name]")) {
    field.value = query.get(field.name) || "";
  }
}

// A search's URL carries only the fields given: /search?q=a+dog&min_score=0.2, short to share.
document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb !== "get" || !event.detail.elt.closest || !event.detail.elt.closest("#search-form")) return;
  const data = event.detail.formData;
  if (!data) return;
  for (const name of Array.from(new Set(data.keys()))) {
    if (data.getAll(name).every((value) => value === "")) data.delete(name);
  }
});

// ---- the keyboard -----------------------------------------------------------------------
// "/" goes to the search box, Escape closes the player, the arrow keys move between hits.
function typing(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && closePlayer()) { event.preventDefault(); return; }
  if (typing(event.target)) return;
  if (event.key === "/") {
    const box = document.getElementById("q");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
    return;
  }
  const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
  const here = event.target.closest && event.target.closest("a.play");
  if (!step || !here) return;
  const all = Array.from(document.querySelectorAll("a.play"));
  const next = all[all.indexOf(here) + step];
  if (next) { event.preventDefault(); next.focus(); }
});

// ---- start-up and after every htmx swap -----------------------------------------------
function wire() {
  wirePlayer();
  wireImage();
}

document.addEventListener("DOMContentLoaded", () => { wire(); followJobs(); localTimes(document); });
document.addEventListener("htmx:afterSettle", (event) => {
  wire();
  localTimes(document);
  if (event.target.id === "job-rows" || event.target.closest && event.target.closest("#job-rows")) followJobs();
});

// melodist serve's page: the form posts to /api/compose; each tune is drawn as staff notation (abcjs
// renders the ABC the server writes) and a piano roll, and plays as a WAV the server renders with
// FluidSynth and Debian's soundfont (so the browser needs no samples and nothing from the internet).
"use strict";

const state = { token: null, models: [], playing: null };

// A token given as http://host:port/#token=TOKEN is kept for this tab only.
function readToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) { sessionStorage.setItem("melodist-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
  state.token = sessionStorage.getItem("melodist-token");
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.token) headers["Authorization"] = "Bearer " + state.token;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  if (!res.ok) {
    let message = res.status + " " + res.statusText;
    try { const e = await res.json(); message = e.error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return res;
}
const apiJson = async (path, options) => (await api(path, options)).json();
const postJson = (path, body) => apiJson(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

function setStatus(text) { document.getElementById("status").textContent = text; }

async function loadModels() {
  const data = await apiJson("/api/models");
  state.models = data.models;
  const select = document.getElementById("model");
  select.innerHTML = "";
  for (const m of data.models) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.name;
    select.appendChild(o);
  }
  select.onchange = showModelInfo;
  showModelInfo();
}

function showModelInfo() {
  const m = state.models.find(x => x.name === document.getElementById("model").value);
  if (!m) return;
  const figures = [`corpus ${m.corpus}`];
  if (m.train_songs) figures.push(`${m.train_songs} songs`);
  figures.push(`${m.layers}×${m.hidden} LSTM`);
  if (m.val_loss !== undefined) figures.push(`validation ${m.val_loss.toFixed(3)} nats/step`);
  if (m.val_accuracy !== undefined) figures.push(`accuracy ${(100 * m.val_accuracy).toFixed(1)}%`);
  document.getElementById("model-info").textContent = figures.join(" · ");
}

function formRequest() {
  const v = id => document.getElementById(id).value;
  const body = {
    model: v("model"), meter: v("meter"), bars: Number(v("bars")), temperature: Number(v("temperature")),
    top_p: Number(v("top_p")), seed: Number(v("seed")), variations: Number(v("variations")),
  };
  if (v("key")) body.key = v("key");
  if (v("cadence_temperature") !== "") body.cadence_temperature = Number(v("cadence_temperature"));
  if (v("rhythm_temperature") !== "") body.rhythm_temperature = Number(v("rhythm_temperature"));
  if (v("primer").trim()) body.primer = v("primer").trim();
  return body;
}

async function compose(event) {
  event.preventDefault();
  const button = document.getElementById("compose");
  button.disabled = true;
  setStatus("composing…");
  try {
    const data = await postJson("/api/compose", formRequest());
    const results = document.getElementById("results");
    stopPlaying();
    results.innerHTML = "";
    data.tunes.forEach(t => results.appendChild(tuneView(t)));
    setStatus("");
    loadHistory();
  } catch (e) {
    setStatus(e.message);
  } finally {
    button.disabled = false;
  }
}

function barQuarters(meter) {
  const [n, d] = meter.split("/").map(Number);
  return n * 4 / d;
}

function drawRoll(canvas, tune, current) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width = canvas.clientWidth * devicePixelRatio, h = canvas.height = canvas.clientHeight * devicePixelRatio;
  ctx.clearRect(0, 0, w, h);
  if (!tune.notes.length) return;
  const lo = Math.min(...tune.notes.map(n => n[0])) - 1, hi = Math.max(...tune.notes.map(n => n[0])) + 1;
  const length = Math.max(tune.length_quarters, 1), x = q => q / length * w, y = p => h - (p - lo + 1) / (hi - lo + 1) * h;
  const bar = barQuarters(tune.request.meter || "4/4");
  ctx.strokeStyle = "#d8d8cc";
  for (let q = 0; q <= length; q += bar) { ctx.beginPath(); ctx.moveTo(x(q), 0); ctx.lineTo(x(q), h); ctx.stroke(); }
  const rowHeight = Math.max(h / (hi - lo + 1) - 1, 2);
  tune.notes.forEach((n, i) => {
    ctx.fillStyle = i === current ? "#c0392b" : "#2d4a3e";
    ctx.fillRect(x(n[1]) + 1, y(n[0]), Math.max(x(n[2]) - 2, 2), rowHeight);
  });
}

function tuneView(tune) {
  const view = document.createElement("article");
  view.className = "tune";
  view.dataset.id = tune.id;
  const r = tune.request;
  view.innerHTML = `<h3><a href="${tune.permalink}">#${tune.id}</a> ${tune.model}, seed ${r.seed}${r.variations > 1 ? ", variation " + (tune.variation + 1) : ""}</h3>
    <div class="meta">${r.key || "model's key"} · ${r.meter} · ${r.bars} bars · temperature ${r.temperature}${r.cadence_temperature !== undefined ? ` (cadence ${r.cadence_temperature})` : ""}${r.rhythm_temperature !== undefined ? ` (rhythm ${r.rhythm_temperature})` : ""} · top-p ${r.top_p} ·
      log-likelihood ${tune.log_likelihood.toFixed(2)} nats</div>
    <div class="staff"></div><canvas class="roll"></canvas>
    <div class="controls"><button class="play">Play</button><button class="stop">Stop</button>
      <label>Tempo <input class="tempo" type="range" min="40" max="240" value="120"> <span class="bpm">120</span> bpm</label>
      <span class="downloads">Download:</span></div>`;
  const staff = view.querySelector(".staff");
  const visual = ABCJS.renderAbc(staff, tune.abc, { add_classes: true, responsive: "resize" })[0];
  const roll = view.querySelector(".roll");
  requestAnimationFrame(() => drawRoll(roll, tune, -1));
  const tempo = view.querySelector(".tempo");
  tempo.oninput = () => { view.querySelector(".bpm").textContent = tempo.value; };
  view.querySelector(".play").onclick = () => play(view, tune, visual, Number(tempo.value));
  view.querySelector(".stop").onclick = stopPlaying;
  const downloads = view.querySelector(".downloads");
  for (const format of ["mid", "abc", "musicxml", "krn", "wav", "txt"]) {
    const a = document.createElement("a");
    a.href = `/api/tunes/${tune.id}/download?format=${format}`;
    a.textContent = format === "mid" ? "MIDI" : format === "musicxml" ? "MusicXML" : format.toUpperCase();
    a.className = "download-" + format;
    a.onclick = e => { e.preventDefault(); download(tune.id, format, Number(tempo.value)); };
    downloads.append(" ", a);
  }
  return view;
}

async function download(id, format, bpm) {
  try {
    const blob = await (await api(`/api/tunes/${id}/download?format=${format}&bpm=${bpm}`)).blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `melodist-${id}.${format}`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (e) { setStatus(e.message); }
}

// Sound: the server's WAV at the chosen tempo; the staff (abcjs TimingCallbacks) and the piano roll
// follow the audio clock.
async function play(view, tune, visual, bpm) {
  stopPlaying();
  setStatus("rendering audio…");
  try {
    const blob = await (await api(`/api/tunes/${tune.id}/download?format=wav&bpm=${bpm}`)).blob();
    const audio = new Audio(URL.createObjectURL(blob));
    const roll = view.querySelector(".roll");
    let lit = [];
    const timing = new ABCJS.TimingCallbacks(visual, {
      qpm: bpm,
      eventCallback: ev => {
        lit.forEach(el => el.classList.remove("abcjs-highlight"));
        lit = [];
        if (!ev) return;
        ev.elements.forEach(group => group.forEach(el => { el.classList.add("abcjs-highlight"); lit.push(el); }));
      },
    });
    const playing = { audio, timing, view, frame: 0, lit: () => lit };
    state.playing = playing;
    const tick = () => {
      if (state.playing !== playing) return;
      const q = audio.currentTime * bpm / 60;
      const current = tune.notes.findIndex(n => q >= n[1] && q < n[1] + n[2]);
      drawRoll(roll, tune, current);
      playing.frame = requestAnimationFrame(tick);
    };
    audio.onended = stopPlaying;
    view.classList.add("playing");
    await audio.play();
    timing.start();
    tick();
    setStatus("");
  } catch (e) { setStatus(e.message); }
}

function stopPlaying() {
  const p = state.playing;
  if (!p) return;
  state.playing = null;
  p.audio.pause();
  p.timing.stop();
  p.lit().forEach(el => el.classList.remove("abcjs-highlight"));
  cancelAnimationFrame(p.frame);
  p.view.classList.remove("playing");
}

async function loadHistory() {
  const list = document.getElementById("history");
  try {
    const data = await apiJson("/api/tunes?limit=50");
    list.innerHTML = "";
    for (const t of data.tunes) {
      const li = document.createElement("li");
      li.dataset.id = t.id;
      li.innerHTML = `<button class="star" title="star">${t.starred ? "★" : "☆"}</button>
        <a href="${t.permalink}">#${t.id}</a><span>${t.model}, ${t.request.key || "model's key"}, ${t.request.meter}, seed ${t.request.seed}</span>
        <span class="meta">${t.created} UTC</span><button class="delete" title="delete">✕</button>`;
      li.querySelector(".star").onclick = async () => { await postJson(`/api/tunes/${t.id}/star`, { starred: !t.starred }); loadHistory(); };
      li.querySelector(".delete").onclick = async () => { await api(`/api/tunes/${t.id}`, { method: "DELETE" }); loadHistory(); };
      li.querySelector("a").onclick = e => { e.preventDefault(); showTune(t.id, true); };
      list.appendChild(li);
    }
  } catch (e) { setStatus(e.message); }
}

async function showTune(id, push) {
  const tune = await apiJson(`/api/tunes/${id}`);
  stopPlaying();
  const results = document.getElementById("results");
  results.innerHTML = "";
  results.appendChild(tuneView(tune));
  if (push) history.pushState(null, "", tune.permalink);
}

// A dropped song file becomes the primer: the server's readers encode it as the model was trained.
function setupDrop() {
  const primer = document.getElementById("primer");
  primer.addEventListener("dragover", e => { e.preventDefault(); primer.classList.add("dragging"); });
  primer.addEventListener("dragleave", () => primer.classList.remove("dragging"));
  primer.addEventListener("drop", async e => {
    e.preventDefault();
    primer.classList.remove("dragging");
    const file = e.dataTransfer.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("model", document.getElementById("model").value);
    try {
      const data = await apiJson("/api/encode", { method: "POST", body: form });
      primer.value = data.primer;
      setStatus(`primer: ${data.symbols} symbols from ${file.name}`);
    } catch (err) { setStatus(err.message); }
  });
}

async function main() {
  readToken();
  document.getElementById("compose-form").addEventListener("submit", compose);
  document.getElementById("die").onclick = () => { document.getElementById("seed").value = Math.floor(Math.random() * 2 ** 32); };
  setupDrop();
  try {
    await loadModels();
  } catch (e) {
    if (/Bearer/.test(e.message)) {
      const token = prompt("This server needs its token (melodist serve --token):");
      if (token) { sessionStorage.setItem("melodist-token", token); location.reload(); }
    }
    setStatus(e.message);
    return;
  }
  const m = location.pathname.match(/^\/tune\/(\d+)$/);
  if (m) showTune(Number(m[1]), false).catch(e => setStatus(e.message));
  loadHistory();
}
main();

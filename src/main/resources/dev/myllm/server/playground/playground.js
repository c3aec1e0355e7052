// The myllm playground: asks /v1/inspect about a text and draws what the model makes of it.
// Plain modern JavaScript, no libraries, no network beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  info: null,        // GET /v1/inspect/model
  result: null,      // the last POST /v1/inspect answer
  ids: null,         // set when the text came from appending ids (so they are analysed as they are)
  layer: 0,
  head: 0,
  sel: -1,           // the token under the cursor or focus
  controller: null,  // the running generation
  seq: 0,            // answers to older requests are dropped
};

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = localStorage.getItem("myllm-key");
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

async function api(path, body) {
  const r = await fetch(path, body === undefined ? { headers: headers() } : { method: "POST", headers: headers(), body: JSON.stringify(body) });
  const j = await r.json();
  if (r.status === 401) $("key-box").hidden = false;
  if (!r.ok) throw new Error(j.error ? j.error.message : "HTTP " + r.status);
  return j;
}

function status(msg) { $("status").textContent = msg; }

// ---------- the model panel ----------
async function loadModel() {
  const info = await api("/v1/inspect/model");
  state.info = info;
  $("model-name").textContent = info.model + " · " + info.tokenizer;
  const c = info.config, p = info.parameters;
  const n = (x) => Number(x).toLocaleString("en");
  const rows = (pairs) => "<table>" + pairs.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("") + "</table>";
  let html = rows([["vocabulary", n(c.vocab_size)], ["context", n(c.n_positions)], ["width (n_embd)", n(c.n_embd)],
    ["layers", c.n_layer], ["heads", c.n_head + " × " + c.head_dim], ["QKV bias", c.qkv_bias ? "yes" : "no"],
    ["output head", c.tied_head ? "tied to the token embedding" : "separate"], ["dropout (training)", c.dropout]]);
  html += rows([["parameters", n(p.total)], ["token embedding", n(p.token_embedding)], ["position embedding", n(p.position_embedding)],
    ["per block", n(p.per_block)], ["all " + c.n_layer + " blocks", n(p.blocks)], ["final norm", n(p.final_norm)],
    ["separate head", n(p.head)], ["float32 size", (p.bytes_float32 / 1048576).toFixed(1) + " MiB"]]);
  const f = info.prompt_format;
  if (f) {
    html += `<div><b>Prompt format</b>: ${esc(f.name)}` + (f.prefix !== undefined
      ? `<pre>${esc(f.prefix)}<mark>TEXT</mark>${esc(f.suffix)}</pre>` : "") + "</div>";
    $("wrap").hidden = f.prefix === undefined;
  }
  $("model").innerHTML = html;
  const layer = $("layer"), head = $("head");
  layer.innerHTML = ""; head.innerHTML = "";
  for (let l = 0; l < c.n_layer; l++) layer.add(new Option(String(l), String(l)));
  for (let h = 0; h < c.n_head; h++) head.add(new Option(String(h), String(h)));
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[ch]));
}

// ---------- analysing ----------
async function analyse() {
  const text = $("text").value;
  if (!state.ids && text.length === 0) return;
  const body = { layers: [state.layer], top_k: 10, last_logits: true };
  if (state.ids) body.ids = state.ids; else body.text = text;
  const seq = ++state.seq;
  status("analysing…");
  const t0 = performance.now();
  try {
    const r = await api("/v1/inspect", body);
    if (seq !== state.seq) return;
    state.result = r;
    if (state.ids) $("text").value = r.text;
    status(`${r.tokens.length} tokens analysed in ${Math.round(performance.now() - t0)} ms`);
    state.sel = Math.min(state.sel, r.tokens.length - 1);
    render();
  } catch (e) {
    if (seq === state.seq) status("error: " + e.message);
  }
}

function render() {
  const r = state.result;
  const chars = [...r.text].length;
  $("stats").textContent = `${r.tokens.length} tokens · ${chars} characters` +
    (r.loss === null ? "" : ` · loss ${r.loss.toFixed(3)} · perplexity ${r.perplexity.toFixed(2)}`);
  renderChips();
  renderAttention();
  renderPrediction();
  renderDistribution();
}

/** The readable piece: a leading space as ␣, newlines as ↵ (and a real break), tabs as →. */
function pieceHtml(piece) {
  let s = esc(piece);
  s = s.replace(/^ /, '<span class="mark">␣</span>');
  s = s.replace(/\n/g, '<span class="mark">↵</span>').replace(/\t/g, '<span class="mark">→</span>');
  return s;
}

function pieceText(piece) {
  return piece.replace(/^ /, "␣").replace(/\n/g, "↵").replace(/\t/g, "→");
}

function lossColour(loss) {
  if (loss === undefined) return "hsl(0 0% 94%)";
  const x = Math.min(1, loss / 10);                       // 0 (certain) .. 10 nats and beyond
  return `hsl(${Math.round(120 * (1 - x))} 70% ${88 - 8 * x}%)`;
}

function renderChips() {
  const box = $("chips");
  box.innerHTML = "";
  const r = state.result;
  r.tokens.forEach((t, i) => {
    const c = document.createElement("span");
    c.className = "chip" + (t.split ? " split" : "");
    c.tabIndex = i === Math.max(0, state.sel) ? 0 : -1;
    c.setAttribute("role", "option");
    c.dataset.i = i;
    c.dataset.id = t.id;
    const p = r.predictions[i - 1];
    c.style.background = lossColour(p ? p.loss : undefined);
    c.title = `id ${t.id}` + (p ? ` · p ${fmtP(p.next_prob)} · rank ${p.next_rank} · loss ${p.loss.toFixed(2)}` : "") +
      (t.split ? " · holds bytes of a split character" : "");
    c.setAttribute("aria-label", `token ${i}: ${pieceText(t.piece)}, id ${t.id}`);
    c.innerHTML = pieceHtml(t.piece);
    c.addEventListener("mouseenter", () => select(i));
    c.addEventListener("focus", () => select(i));
    box.appendChild(c);
  });
  highlight();
}

function select(i) {
  if (!state.result || i === state.sel) return;
  state.sel = i;
  highlight();
  renderPrediction();
}

// the selected token's row (what it attends to) and column (what attends to it), on the chips and the heatmap
function highlight() {
  const r = state.result, i = state.sel;
  const w = currentHead();
  document.querySelectorAll(".chip").forEach((c, j) => {
    c.classList.toggle("sel", j === i);
    c.tabIndex = j === Math.max(0, i) ? 0 : -1;
    c.style.setProperty("--att", i >= 0 && w && j <= i ? w[i][j] : 0);
    c.style.setProperty("--by", i >= 0 && w && j >= i ? w[j][i] : 0);
  });
  const ov = $("heat-overlay"), g = ov.getContext("2d");
  g.clearRect(0, 0, ov.width, ov.height);
  if (i < 0 || !r) return;
  const cell = ov.width / r.tokens.length;
  g.lineWidth = Math.max(1, cell / 6);
  g.strokeStyle = "#e8711a";
  g.strokeRect(0, i * cell, (i + 1) * cell, cell);          // row i: what token i attends to
  g.strokeStyle = "#2457c5";
  g.strokeRect(i * cell, i * cell, cell, (r.tokens.length - i) * cell); // column i: who attends to it
}

// ---------- attention ----------
function currentLayer() {
  const r = state.result;
  return r && r.attention.find((a) => a.layer === state.layer);
}

function currentHead() {
  const l = currentLayer();
  const h = l && l.heads.find((x) => x.head === state.head);
  return h ? h.weights : null;
}

/** Draws a T×T causal heatmap: white is 0, dark blue is 1; above the diagonal nothing is drawn. */
function drawHeat(canvas, weights, maxSize) {
  const t = weights.length;
  const cell = Math.max(1, Math.floor(maxSize / t));
  canvas.width = canvas.height = t * cell;
  const g = canvas.getContext("2d");
  const img = g.createImageData(t * cell, t * cell);
  const d = img.data;
  d.fill(255);
  for (let i = 0; i < t; i++) {
    const row = weights[i];
    for (let j = 0; j <= i; j++) {
      const w = Math.sqrt(row[j]);                          // sqrt: small weights stay visible
      const R = Math.round(255 - 219 * w), G = Math.round(255 - 168 * w), B = Math.round(255 - 58 * w);
      for (let y = i * cell; y < (i + 1) * cell; y++) {
        for (let x = j * cell; x < (j + 1) * cell; x++) {
          const o = (y * t * cell + x) * 4;
          d[o] = R; d[o + 1] = G; d[o + 2] = B;
        }
      }
    }
  }
  g.putImageData(img, 0, 0);
}

function renderAttention() {
  const layer = currentLayer();
  const grid = $("heads");
  grid.innerHTML = "";
  if (!layer) return;
  const w = currentHead();
  const main = $("heatmap"), ov = $("heat-overlay");
  drawHeat(main, w, 440);
  ov.width = main.width; ov.height = main.height;
  $("att-note").textContent = `row: a token, columns: the tokens it attends to`;
  layer.heads.forEach((h) => {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas");
    c.tabIndex = 0;
    c.setAttribute("role", "button");
    c.setAttribute("aria-label", `head ${h.head}`);
    c.dataset.head = h.head;
    c.classList.toggle("sel", h.head === state.head);
    drawHeat(c, h.weights, 96);
    const pick = () => { state.head = h.head; $("head").value = String(h.head); renderAttention(); highlight(); };
    c.addEventListener("click", pick);
    c.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(); } });
    fig.appendChild(c);
    const cap = document.createElement("figcaption");
    cap.textContent = "head " + h.head;
    fig.appendChild(cap);
    grid.appendChild(fig);
  });
  highlight();
}

// ---------- predictions ----------
function fmtP(p) {
  return p >= 0.001 ? (100 * p).toFixed(1) + "%" : p.toExponential(1);
}

function bars(box, items, actualId) {
  box.innerHTML = "";
  const max = Math.max(1e-9, ...items.map((x) => x.prob));
  for (const x of items) {
    const a = document.createElement("span");
    a.className = "piece";
    a.textContent = pieceText(x.piece);
    a.title = "id " + x.id;
    const b = document.createElement("span");
    const bar = document.createElement("div");
    bar.className = "bar" + (x.id === actualId ? " actual" : "");
    bar.style.width = (100 * x.prob / max) + "%";
    b.appendChild(bar);
    const p = document.createElement("span");
    p.className = "p";
    p.textContent = fmtP(x.prob);
    box.append(a, b, p);
  }
}

function renderPrediction() {
  const r = state.result, i = state.sel < 0 ? r.tokens.length - 1 : state.sel;
  const p = r.predictions[i];
  $("pred-title").textContent = `After “${pieceText(r.tokens.slice(Math.max(0, i - 3), i + 1).map((t) => t.piece).join(""))}” (position ${i}) the model expects:`;
  bars($("pred-bars"), p.top, p.next_id);
  if (p.next_id !== undefined) {
    const next = r.tokens[i + 1];
    $("pred-actual").innerHTML = `Actual next token <b>${esc(pieceText(next.piece))}</b> (id ${p.next_id}): probability ${fmtP(p.next_prob)}, rank ${p.next_rank}, loss ${p.loss.toFixed(3)}`;
  } else {
    $("pred-actual").textContent = "The last token: what follows is up to sampling.";
  }
}

// ---------- sampling, as generate.Sampler filters: top-k, then temperature, then top-p ----------
function filtered() {
  const logits = state.result && state.result.last_logits;
  if (!logits) return null;
  const v = logits.length, t = parseFloat($("temperature").value), k = parseInt($("topk").value, 10) || 0, topP = parseFloat($("topp").value);
  const probs = new Float64Array(v);
  if (t === 0) {                                           // greedy: the argmax alone
    let best = 0;
    for (let i = 1; i < v; i++) if (logits[i] > logits[best]) best = i;
    probs[best] = 1;
    return probs;
  }
  let threshold = -Infinity;
  if (k > 0 && k < v) threshold = Float64Array.from(logits).sort()[v - k];   // ties at the k-th stay
  let max = -Infinity;
  for (let i = 0; i < v; i++) if (logits[i] >= threshold) max = Math.max(max, logits[i]);
  let z = 0;
  for (let i = 0; i < v; i++) {
    const p = logits[i] >= threshold ? Math.exp((logits[i] - max) / t) : 0;
    probs[i] = p; z += p;
  }
  if (topP < 1) {
    // the smallest most-likely set reaching top-p (equal probabilities: the higher id first, as the Sampler's sort)
    const order = [];
    for (let i = 0; i < v; i++) if (probs[i] > 0) order.push(i);
    order.sort((a, b) => probs[b] - probs[a] || b - a);
    let cum = 0, n = 0;
    for (; n < order.length; n++) { cum += probs[order[n]] / z; if (cum >= topP) { n++; break; } }
    for (let m = n; m < order.length; m++) probs[order[m]] = 0;
    z = 0;
    for (let i = 0; i < v; i++) z += probs[i];
  }
  for (let i = 0; i < v; i++) probs[i] /= z;
  return probs;
}

function renderDistribution() {
  $("temperature-v").textContent = parseFloat($("temperature").value).toFixed(2);
  $("topp-v").textContent = parseFloat($("topp").value).toFixed(2);
  const probs = filtered();
  if (!probs) return;
  const ids = [];
  let kept = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i] > 0) { ids.push(i); kept++; }
  ids.sort((a, b) => probs[b] - probs[a] || a - b);
  const top = ids.slice(0, 10).map((id) => ({ id, prob: probs[id], piece: pieceOf(id) }));
  $("dist-title").textContent = `The next token after the whole text: ${kept.toLocaleString("en")} candidate${kept === 1 ? "" : "s"} left after the filters; the ten most likely:`;
  bars($("dist-bars"), top, -1);
  state.probs = probs;
}

// pieces of ids we have seen (the last position's top list, the tokens); others by id
function pieceOf(id) {
  const r = state.result;
  for (const p of r.predictions[r.predictions.length - 1].top) if (p.id === id) return p.piece;
  for (const t of r.tokens) if (t.id === id) return t.piece;
  return "#" + id;
}

function appendToken(greedy) {
  const r = state.result;
  if (!r) return;
  const probs = state.probs;
  let pick = 0;
  if (greedy) {
    const l = r.last_logits;
    for (let i = 1; i < l.length; i++) if (l[i] > l[pick]) pick = i;
  } else {
    let u = Math.random(), last = -1;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] === 0) continue;
      last = i; u -= probs[i];
      if (u < 0) break;
    }
    pick = last;
  }
  state.ids = r.tokens.map((t) => t.id).concat([pick]).slice(-(state.info ? state.info.inspect_max_tokens : 512));
  state.sel = -1;
  analyse();
}

async function generate() {
  const r = state.result;
  if (!r || state.controller) return;
  const base = $("text").value;
  const n = Math.max(1, Math.min(256, parseInt($("gen-n").value, 10) || 16));
  const body = { model: state.info.model, prompt: r.tokens.map((t) => t.id), max_tokens: n, stream: true,
    temperature: parseFloat($("temperature").value), top_p: parseFloat($("topp").value), top_k: parseInt($("topk").value, 10) || 0 };
  state.controller = new AbortController();
  $("generate").disabled = true; $("stop").disabled = false;
  status("generating…");
  let text = "";
  try {
    const resp = await fetch("/v1/completions", { method: "POST", headers: headers(), body: JSON.stringify(body), signal: state.controller.signal });
    if (!resp.ok) { const j = await resp.json(); throw new Error(j.error ? j.error.message : "HTTP " + resp.status); }
    const reader = resp.body.getReader(), dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, cut); buf = buf.slice(cut + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        text += j.choices[0].text;
        $("text").value = base + text;
      }
    }
    status("generated");
  } catch (e) {
    status(e.name === "AbortError" ? "stopped" : "error: " + e.message);
  } finally {
    state.controller = null;
    $("generate").disabled = false; $("stop").disabled = true;
  }
  state.ids = null;
  analyse();
}

// ---------- wiring ----------
let timer = 0;
function later() {
  clearTimeout(timer);
  timer = setTimeout(analyse, 300);
}

function init() {
  const key = $("api-key");
  key.value = localStorage.getItem("myllm-key") || "";
  key.addEventListener("change", () => { localStorage.setItem("myllm-key", key.value); start(); });
  $("text").addEventListener("input", () => { state.ids = null; later(); });
  $("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); state.ids = null; analyse(); } });
  $("analyse").addEventListener("click", () => { state.ids = null; analyse(); });
  $("wrap").addEventListener("click", () => {
    const f = state.info.prompt_format;
    $("text").value = f.prefix + $("text").value + f.suffix;
    state.ids = null; analyse();
  });
  $("layer").addEventListener("change", () => { state.layer = parseInt($("layer").value, 10); analyse(); });
  $("head").addEventListener("change", () => { state.head = parseInt($("head").value, 10); renderAttention(); });
  for (const id of ["temperature", "topk", "topp"]) $(id).addEventListener("input", renderDistribution);
  $("append-sample").addEventListener("click", () => appendToken(false));
  $("append-greedy").addEventListener("click", () => appendToken(true));
  $("generate").addEventListener("click", generate);
  $("stop").addEventListener("click", () => state.controller && state.controller.abort());
  $("chips").addEventListener("keydown", (e) => {
    const n = state.result ? state.result.tokens.length : 0;
    let i = state.sel;
    if (e.key === "ArrowRight") i = Math.min(n - 1, i + 1);
    else if (e.key === "ArrowLeft") i = Math.max(0, i - 1);
    else if (e.key === "Home") i = 0;
    else if (e.key === "End") i = n - 1;
    else return;
    e.preventDefault();
    document.querySelector(`.chip[data-i="${i}"]`).focus();
  });
  const heat = $("heatmap");
  heat.addEventListener("mousemove", (e) => {
    if (!state.result) return;
    const b = heat.getBoundingClientRect();
    const i = Math.floor((e.clientY - b.top) / b.height * state.result.tokens.length);
    if (i >= 0 && i < state.result.tokens.length) select(i);
  });
  start();
}

async function start() {
  try {
    await loadModel();
    await analyse();
  } catch (e) {
    status("error: " + e.message);
  }
}

init();

// The page's Verify, Analyze and Detect tabs: plain modules over the service's HTTP routes.

/** Headers for the API, with the bearer token when one is given. */
export function authHeaders() {
  const token = document.getElementById('token').value.trim();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The token, for the live WebSocket's first message. */
export const apiToken = () => document.getElementById('token').value.trim();

// Tabs: click, or arrow keys / Home / End on the tab list (WAI-ARIA tabs pattern).
const tabs = [...document.querySelectorAll('[role=tab]')];
function select(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
  }
  tab.focus();
}
tabs.forEach((tab, i) => {
  tab.addEventListener('click', () => select(tab));
  tab.addEventListener('keydown', (e) => {
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length]);
  });
});

const readAsDataUrl = (file) =>
  new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });

/** A photo picker: file input, drop zone or URL; shows the photo and remembers what to send. */
function picker(fieldset) {
  const img = fieldset.querySelector('img');
  const canvas = fieldset.querySelector('canvas');
  const file = fieldset.querySelector('input[type=file]');
  const url = fieldset.querySelector('input[type=url]');
  const drop = fieldset.querySelector('.drop');
  let value = null;
  const show = (src) => {
    value = src;
    clear(canvas);
    img.hidden = false;
    img.src = src;
  };
  file.addEventListener('change', async () => file.files[0] && show(await readAsDataUrl(file.files[0])));
  url.addEventListener('change', () => url.value && show(url.value.trim()));
  drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const dropped = e.dataTransfer.files[0];
    if (dropped) show(await readAsDataUrl(dropped));
  });
  return {
    get value() {
      return value;
    },
    /** Resolves once the photo is shown (its natural size is known). */
    ready: () => (img.complete && img.naturalWidth ? Promise.resolve() : new Promise((r) => img.addEventListener('load', r, { once: true }))),
    img,
    canvas,
  };
}

function clear(canvas) {
  canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
}

/** Boxes (and points) over a photo, in its own pixels: the canvas takes the photo's natural size. */
export function drawFaces(canvas, width, height, faces) {
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  const line = Math.max(2, Math.round(Math.min(width, height) / 250));
  g.lineWidth = line;
  g.font = `bold ${Math.max(14, line * 7)}px system-ui, sans-serif`;
  for (const face of faces) {
    const { x, y, width: w, height: h } = face.box;
    g.strokeStyle = face.colour ?? '#ff00ff';
    g.strokeRect(x, y, w, h);
    for (const p of face.points ?? []) {
      g.fillStyle = '#00e5ff';
      g.fillRect(p.x - line / 2, p.y - line / 2, line, line);
    }
    if (face.label) {
      const m = g.measureText(face.label);
      const ty = y > line * 10 ? y - line * 8 : y + h;
      g.fillStyle = 'rgba(0,0,0,.75)';
      g.fillRect(x, ty, m.width + line * 2, line * 8);
      g.fillStyle = '#fff';
      g.fillText(face.label, x + line, ty + line * 6.3);
    }
  }
}

const region = (r) => r && { x: r.x, y: r.y, width: r.w, height: r.h };

async function post(path, body) {
  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? json.message ?? `HTTP ${response.status}`);
  return json;
}

function failed(target, err) {
  target.innerHTML = '';
  const p = document.createElement('p');
  p.className = 'error';
  p.textContent = `Failed: ${err.message}`;
  target.append(p);
}

function busy(form, on) {
  for (const b of form.querySelectorAll('button')) b.disabled = on;
}

// Verify
{
  const form = document.getElementById('verify-form');
  const [a, b] = [...form.querySelectorAll('.picker')].map(picker);
  const out = document.getElementById('verify-result');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!a.value || !b.value) return failed(out, new Error('choose two photos first'));
    busy(form, true);
    out.textContent = 'Verifying…';
    try {
      const metric = form.elements.metric.value;
      const r = await post('/verify', { img1: a.value, img2: b.value, ...(metric ? { distance_metric: metric } : {}) });
      await Promise.all([a.ready(), b.ready()]);
      const colour = r.verified ? '#0a8a35' : '#d01010';
      for (const [p, area] of [[a, r.facial_areas.img1], [b, r.facial_areas.img2]]) {
        drawFaces(p.canvas, p.img.naturalWidth, p.img.naturalHeight, area ? [{ box: region(area), colour }] : []);
      }
      out.innerHTML = '';
      const verdict = document.createElement('p');
      verdict.className = `verdict ${r.verified ? 'same' : 'different'}`;
      verdict.dataset.testid = 'verdict';
      verdict.textContent = r.verified ? 'Same Person' : 'Different Person';
      const details = document.createElement('p');
      details.textContent = `distance ${r.distance.toFixed(4)} · threshold ${r.threshold.toFixed(4)} (${r.similarity_metric}) · confidence ${(r.confidence * 100).toFixed(1)}% · ${r.time.toFixed(2)} s`;
      out.append(verdict, details);
    } catch (err) {
      failed(out, err);
    } finally {
      busy(form, false);
    }
  });
}

// Analyze
{
  const form = document.getElementById('analyze-form');
  const photo = picker(form.querySelector('.picker'));
  const out = document.getElementById('analyze-result');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!photo.value) return failed(out, new Error('choose a photo first'));
    busy(form, true);
    out.textContent = 'Analyzing…';
    try {
      const { results } = await post('/analyze', { img: photo.value });
      await photo.ready();
      drawFaces(photo.canvas, photo.img.naturalWidth, photo.img.naturalHeight, results.map((f, i) => ({ box: region(f.region), label: `${i + 1} ${f.dominant_emotion}` })));
      out.innerHTML = '';
      results.forEach((f, i) => {
        const h = document.createElement('h3');
        h.textContent = `Face ${i + 1}: `;
        const dominant = document.createElement('span');
        dominant.dataset.testid = 'dominant-emotion';
        dominant.textContent = f.dominant_emotion;
        h.append(dominant, ` · age ${f.age.toFixed(0)} · ${f.dominant_gender} (${f.gender[f.dominant_gender].toFixed(1)}%)`);
        const bars = document.createElement('div');
        bars.className = 'bars';
        bars.setAttribute('role', 'list');
        bars.setAttribute('aria-label', `Emotions of face ${i + 1}`);
        for (const [name, pct] of Object.entries(f.emotion).sort((p, q) => q[1] - p[1])) {
          const label = document.createElement('span');
          label.textContent = name;
          label.setAttribute('role', 'listitem');
          const track = document.createElement('div');
          const bar = document.createElement('div');
          bar.className = 'bar';
          bar.style.width = `${pct.toFixed(1)}%`;
          track.append(bar);
          const value = document.createElement('span');
          value.textContent = `${pct.toFixed(1)}%`;
          bars.append(label, track, value);
        }
        out.append(h, bars);
      });
      if (results.length === 0) out.textContent = 'No face found.';
    } catch (err) {
      failed(out, err);
    } finally {
      busy(form, false);
    }
  });
}

// Detect
{
  const form = document.getElementById('detect-form');
  const photo = picker(form.querySelector('.picker'));
  const out = document.getElementById('detect-result');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!photo.value) return failed(out, new Error('choose a photo first'));
    busy(form, true);
    out.textContent = 'Detecting…';
    try {
      const r = await post('/api/detect', { img: photo.value, detector: form.elements.detector.value });
      await photo.ready();
      // Boxes are in the decoded image's pixels; the browser shows the photo at its natural size too.
      drawFaces(photo.canvas, r.width, r.height, r.faces.map((f, i) => ({ box: f.box, points: f.landmarks, label: `${i + 1}` })));
      out.innerHTML = '';
      const p = document.createElement('p');
      p.dataset.testid = 'face-count';
      p.textContent = `${r.faces.length} face${r.faces.length === 1 ? '' : 's'} (${r.detector})`;
      out.append(p);
      const table = document.createElement('table');
      table.innerHTML = '<caption>Faces found</caption><tr><th scope="col">#</th><th scope="col">box (x, y, w, h)</th><th scope="col">score</th><th scope="col">landmarks</th></tr>';
      r.faces.forEach((f, i) => {
        const row = table.insertRow();
        for (const text of [i + 1, [f.box.x, f.box.y, f.box.width, f.box.height].map(Math.round).join(', '), f.score.toFixed(3), f.landmarks.length]) row.insertCell().textContent = String(text);
      });
      out.append(table);
    } catch (err) {
      failed(out, err);
    } finally {
      busy(form, false);
    }
  });
}

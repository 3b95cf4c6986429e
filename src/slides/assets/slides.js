// The deck's script: one slide at a time with keyboard and #n navigation, the presenter view
// (current slide, next slide, notes, timer) kept in step with the audience window, and live panels
// that poll this server's /slides/api/. No framework; nothing is fetched from anywhere else.
(() => {
  'use strict';
  const body = document.body;
  body.classList.add('js');
  const mode = body.dataset.mode;
  const slides = [...document.querySelectorAll('#deck .slide')];
  const count = slides.length;
  const channel = 'BroadcastChannel' in window ? new BroadcastChannel('ecr-lab-slides') : null;
  const SLIDE_WIDTH = 1280;
  const SLIDE_HEIGHT = 720;
  const LIVE_EVERY_MS = 3000;
  let current = 0;

  const clamp = (n) => Math.min(Math.max(n, 1), count);
  const fromHash = () => {
    const n = parseInt(location.hash.slice(1), 10);
    return Number.isInteger(n) ? clamp(n) : 1;
  };

  // ---- Navigation ----
  function show(n, { broadcast = true } = {}) {
    n = clamp(n);
    if (n === current) return;
    current = n;
    if (location.hash !== `#${n}`) history.replaceState(null, '', `#${n}`);
    for (const counter of document.querySelectorAll('.counter')) counter.textContent = `${n} / ${count}`;
    if (mode === 'presenter') showPresenter(); else showAudience();
    if (broadcast && channel) channel.postMessage({ slide: n });
    refreshLive();
  }

  function showAudience() {
    slides.forEach((slide, index) => {
      const here = index + 1 === current;
      slide.classList.toggle('current', here);
      slide.setAttribute('aria-hidden', here ? 'false' : 'true');
    });
    const bar = document.querySelector('.progress .bar');
    if (bar) bar.style.width = `${(current / count) * 100}%`;
  }

  function place(screen, n) {
    screen.replaceChildren();
    if (n > count) {
      const end = document.createElement('div');
      end.className = 'end';
      end.textContent = 'End of the deck';
      screen.append(end);
      return;
    }
    const copy = slides[n - 1].cloneNode(true);
    copy.removeAttribute('id');
    copy.querySelector('.notes')?.remove();
    screen.append(copy);
    fit(screen);
  }

  function showPresenter() {
    place(document.getElementById('current'), current);
    place(document.getElementById('next'), current + 1);
    const notes = slides[current - 1].querySelector('.notes');
    document.getElementById('notes').innerHTML = notes ? notes.innerHTML : '';
    document.title = `${current}/${count} · ${slides[current - 1].dataset.title} · presenter`;
  }

  function fit(screen) {
    screen.style.setProperty('--scale', String(screen.clientWidth / SLIDE_WIDTH));
  }

  function fitAll() {
    if (mode === 'audience') {
      const scale = Math.min(innerWidth / SLIDE_WIDTH, innerHeight / SLIDE_HEIGHT);
      document.documentElement.style.setProperty('--scale', String(scale));
    } else if (mode === 'presenter') {
      document.querySelectorAll('.screen').forEach(fit);
    }
  }

  const keys = {
    ArrowRight: 1, ArrowDown: 1, PageDown: 1, n: 1,
    ArrowLeft: -1, ArrowUp: -1, PageUp: -1, Backspace: -1,
  };
  document.addEventListener('keydown', (event) => {
    if (mode === 'handout' || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest('input, textarea, select, [contenteditable]')) return;
    if (event.key in keys) show(current + keys[event.key]);
    else if (event.key === ' ') show(current + (event.shiftKey ? -1 : 1));
    else if (event.key === 'Home') show(1);
    else if (event.key === 'End') show(count);
    else if (event.key === 'p' && mode === 'audience') openPresenter();
    else if (event.key === 'r' && mode === 'presenter') resetTimer();
    else return;
    event.preventDefault();
  });
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-go]');
    if (button) show(current + (button.dataset.go === 'next' ? 1 : -1));
    if (event.target.closest('.presenter-link')) {
      event.preventDefault();
      openPresenter();
    }
  });
  function openPresenter() {
    window.open(`/slides/presenter#${current}`, 'ecr-lab-presenter', 'width=1280,height=800');
  }
  // The on-screen controls show while the mouse moves, and stay out of the audience's way otherwise.
  let still;
  document.addEventListener('mousemove', () => {
    body.classList.add('pointer');
    clearTimeout(still);
    still = setTimeout(() => body.classList.remove('pointer'), 2500);
  });
  window.addEventListener('hashchange', () => show(fromHash()));
  window.addEventListener('resize', fitAll);
  if (channel) channel.onmessage = (message) => show(Number(message.data.slide), { broadcast: false });

  // ---- Presenter timer (kept across a reload of the presenter window) ----
  const TIMER_KEY = 'ecr-lab-slides-started';
  let started = Number(sessionStorage.getItem(TIMER_KEY)) || Date.now();
  if (mode === 'presenter') sessionStorage.setItem(TIMER_KEY, String(started));
  function resetTimer() {
    started = Date.now();
    sessionStorage.setItem(TIMER_KEY, String(started));
    tick();
  }
  function tick() {
    const timer = document.getElementById('timer');
    if (!timer) return;
    const seconds = Math.floor((Date.now() - started) / 1000);
    const two = (n) => String(n).padStart(2, '0');
    const hours = Math.floor(seconds / 3600);
    const clock = `${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
    timer.textContent = hours ? `${hours}:${clock}` : clock;
    document.getElementById('clock').textContent = new Date().toLocaleTimeString();
  }
  if (mode === 'presenter') {
    document.getElementById('timer-reset').addEventListener('click', resetTimer);
    setInterval(tick, 1000);
    tick();
  }

  // ---- Live panels ----
  const lastSeen = new Map();
  const cell = (text, code) => {
    const td = document.createElement('td');
    if (code) {
      const c = document.createElement('code');
      c.textContent = text;
      td.append(c);
    } else {
      td.textContent = text;
    }
    return td;
  };
  const rowsOf = {
    repositories: (data) => data.repositories.map((r) => [
      cell(r.repositoryName), cell(r.repositoryUri, true), cell(r.imageTagMutability),
      cell(r.scanOnPush ? 'Enabled' : 'Disabled'), cell(String(r.imageCount)),
    ]),
    images: (data) => data.imageDetails.map((i) => [
      cell(i.imageTags.length ? i.imageTags.join(', ') : '<untagged>'),
      cell(`${i.imageDigest.slice(0, 19)}…`, true),
      cell(new Date(i.imagePushedAt * 1000).toLocaleString()),
      cell(i.imageSize),
    ]),
  };
  const emptyText = { repositories: 'No repositories yet.', images: 'No images yet.' };

  function draw(panel, result) {
    const tbody = panel.querySelector('tbody');
    const error = panel.querySelector('.live-error');
    const columns = panel.querySelectorAll('thead th').length;
    panel.classList.toggle('stale', !result.ok);
    if (!result.ok) {
      error.hidden = false;
      error.textContent = result.message;
      tbody.replaceChildren();
      return;
    }
    error.hidden = true;
    error.textContent = '';
    const rows = rowsOf[panel.dataset.live](result.data).map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement('tr');
      tr.className = 'live-empty';
      const td = cell(emptyText[panel.dataset.live]);
      td.colSpan = columns;
      tr.append(td);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
  }

  async function fetchLive(src) {
    try {
      const response = await fetch(src, { cache: 'no-store' });
      const data = await response.json();
      if (!response.ok || data.error) {
        const e = data.error || {};
        return { ok: false, message: e.code ? `${e.code}: ${e.message}` : String(e.message || response.status) };
      }
      return { ok: true, data };
    } catch (e) {
      return { ok: false, message: `The lab's mock does not answer (${e.message}). Is ecr-lab still running?` };
    }
  }

  async function refreshLive() {
    const panels = [...document.querySelectorAll('.live')].filter((p) => !p.closest('[hidden]'));
    for (const panel of panels) {
      if (lastSeen.has(panel.dataset.src)) draw(panel, lastSeen.get(panel.dataset.src));
    }
    const sources = [...new Set(panels.map((p) => p.dataset.src))];
    await Promise.all(sources.map(async (src) => {
      const result = await fetchLive(src);
      const key = JSON.stringify(result);
      const changed = lastSeen.get(`${src}#key`) !== key;
      lastSeen.set(src, result);
      lastSeen.set(`${src}#key`, key);
      for (const panel of document.querySelectorAll('.live')) {
        if (panel.dataset.src === src && (changed || panel.querySelector('.live-waiting'))) draw(panel, result);
      }
    }));
  }

  // ---- Start ----
  if (mode !== 'handout') {
    fitAll();
    show(fromHash(), { broadcast: false });
  } else {
    refreshLive();
  }
  setInterval(refreshLive, LIVE_EVERY_MS);
})();

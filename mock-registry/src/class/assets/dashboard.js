// ecr-lab class dashboard: polls /class/api/state every 1.5 s (the sign-in cookie authenticates,
// the page's CSRF token goes in X-CSRF-Token) and redraws the grid, the stuck list, the counts and
// the selected student's detail without a reload. Every value from the server is put on the page
// with textContent (never as markup). When the server does not answer, the page says so.
'use strict';
(() => {
  const POLL_MS = 1500;
  const TIMEOUT_MS = 5000;
  const LARGE_KEY = 'ecrlab-class-large';
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const STATUS = {
    done: { letter: 'D', word: 'done' },
    working: { letter: 'W', word: 'working' },
    stuck: { letter: 'S', word: 'stuck' },
    error: { letter: 'E', word: 'met an error' },
    idle: { letter: 'I', word: 'idle' },
  };
  const COUNTED = ['done', 'working', 'stuck', 'error'];

  let state = null;
  let selected = null;
  let lastOk = null;
  let downSince = null;
  let failures = 0;
  let signedOut = false;
  const shown = {};

  /** A new element: `props` are properties (className, title, ...) or `data-*`/`aria-*` attributes. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.includes('-') || key === 'scope' || key === 'colspan' || key === 'rowspan') node.setAttribute(key, String(value));
      else node[key] = value;
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return node;
  }

  function statusOf(name) {
    return STATUS[name] || { letter: '?', word: String(name) };
  }

  function mark(status, title) {
    const known = STATUS[status] ? status : 'none';
    return el('span', { className: `mark s-${known}`, title, 'aria-label': title }, statusOf(status).letter);
  }

  function clock(value) {
    if (value === null || value === undefined || value === '') return '';
    // Numbers are epoch seconds (the request log) or epoch milliseconds (progress events).
    const date = typeof value === 'number' ? new Date(value > 1e11 ? value : value * 1000) : new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }

  function minutes(value) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return '';
    return value < 1 ? '<1 min' : `${Math.floor(value)} min`;
  }

  function stagesOf(lesson) {
    return Array.isArray(lesson?.stages) ? lesson.stages : [];
  }

  function lessonOf(id) {
    return (state?.course || []).find((lesson) => lesson.id === id);
  }

  /** "Lesson title, stage 3: Push the image" for a student's current place. */
  function where(student) {
    const lesson = lessonOf(student.lesson);
    if (!lesson) return student.lesson ? String(student.lesson) : 'not started yet';
    const stage = typeof student.stage === 'number' ? `, stage ${student.stage + 1}` : '';
    const title = student.stageTitle || stagesOf(lesson)[student.stage] || '';
    return `${lesson.title}${stage}${title ? `: ${title}` : ''}`;
  }

  async function api(path, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      return await fetch(path, {
        credentials: 'same-origin',
        cache: 'no-store',
        ...options,
        headers: { 'X-CSRF-Token': csrf, Accept: 'application/json', ...(options.headers || {}) },
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') return body.error;
    } catch {
      // not JSON: fall through to the status
    }
    return `The server answered ${response.status} ${response.statusText}.`;
  }

  // ---- polling and the "server unreachable" banner ----

  async function poll() {
    try {
      const response = await api('/class/api/state');
      if (response.status === 401 || response.status === 403) {
        signedOut = true;
        showDown(await errorText(response));
        return;
      }
      if (!response.ok) throw new Error(await errorText(response));
      const answer = await response.json();
      lastOk = new Date();
      failures = 0;
      downSince = null;
      showUp(answer.now);
      draw(answer);
      if (selected) await loadDetail();
    } catch (error) {
      failures += 1;
      downSince ??= new Date();
      showDown(error?.name === 'AbortError' ? 'no answer within 5 s'
        : error instanceof TypeError ? 'no connection to the server' : String(error?.message || error));
    } finally {
      if (!signedOut) setTimeout(poll, POLL_MS);
    }
  }

  /** Draws a state; one the page cannot draw is said so on the page (not taken for a network fault). */
  function draw(answer) {
    const previous = state;
    try {
      state = answer;
      render();
    } catch (error) {
      state = previous;
      const banner = $('offline');
      banner.replaceChildren(el('p', {}, `The dashboard could not draw the class state the server sent (${error?.message || error}).`),
        el('p', {}, 'The server and this page may be of different ecr-lab versions: reload the page.'));
      banner.hidden = false;
    }
  }

  /** Live again; the class (lab) clock is named when it was moved away from this machine's. */
  function showUp(now) {
    $('offline').hidden = true;
    document.body.classList.remove('stale');
    const live = $('live');
    live.classList.remove('down');
    const classNow = new Date(now);
    const moved = Math.abs(classNow.getTime() - lastOk.getTime()) > 60_000;
    live.textContent = `Live, updated ${clock(lastOk.getTime() / 1000)}${moved ? ` (class clock ${clock(now)})` : ''}`;
  }

  function showDown(reason) {
    const banner = $('offline');
    const live = $('live');
    live.classList.add('down');
    document.body.classList.add('stale');
    banner.replaceChildren();
    if (signedOut) {
      live.textContent = 'Signed out';
      banner.append(
        el('p', {}, 'This dashboard is no longer signed in, so it stopped updating.'),
        el('p', {}, reason, ' ', el('a', { href: '/class/' }, 'Sign in again'), ' with the instructor token.'),
      );
    } else {
      live.textContent = 'Server unreachable';
      const since = clock(downSince.getTime() / 1000);
      const seen = lastOk ? `What you see is from ${clock(lastOk.getTime() / 1000)}.` : 'Nothing has been received yet.';
      banner.append(
        el('p', {}, `The class server is not answering (since ${since}, ${failures} failed ${failures === 1 ? 'try' : 'tries'}). ${seen}`),
        el('p', {}, `Last problem: ${reason}. Check that ecr-lab class serve is still running and this machine is on its network; the page keeps trying every 1.5 s.`),
      );
    }
    banner.hidden = false;
  }

  // ---- filters ----

  function fillLessonFilter() {
    const select = $('f-lesson');
    const ids = (state.course || []).map((lesson) => lesson.id).join('\n');
    if (select.dataset.ids === ids) return;
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '' }, 'All lessons'));
    for (const lesson of state.course || []) select.append(el('option', { value: lesson.id }, lesson.title || lesson.id));
    select.value = (state.course || []).some((lesson) => lesson.id === chosen) ? chosen : '';
    select.dataset.ids = ids;
  }

  function visibleStudents() {
    const lesson = $('f-lesson').value;
    const status = $('f-status').value;
    const search = $('f-name').value.trim().toLowerCase();
    return (state.students || [])
      .filter((s) => !lesson || s.lesson === lesson)
      .filter((s) => !status || s.status === status)
      .filter((s) => !search || String(s.name).toLowerCase().includes(search))
      .sort((a, b) => String(a.name).localeCompare(String(b.name), undefined, { sensitivity: 'base' }));
  }

  function visibleLessons() {
    const lesson = $('f-lesson').value;
    return (state.course || []).filter((l) => !lesson || l.id === lesson);
  }

  // ---- drawing ----

  function render() {
    fillLessonFilter();
    document.title = `${state.className || 'Class'} - ecr-lab class dashboard`;
    $('class-name').textContent = state.className || 'Class';
    renderSummary();
    renderGrid();
    renderStuck();
    renderFaultTarget();
  }

  function renderSummary() {
    const students = state.students || [];
    const count = (status) => students.filter((s) => s.status === status).length;
    const parts = [el('strong', {}, String(students.length)), ` student${students.length === 1 ? '' : 's'}`];
    for (const status of ['done', 'working', 'stuck', 'error', 'idle']) {
      parts.push(', ', el('strong', {}, String(count(status))), ` ${statusOf(status).word}`);
    }
    const showing = visibleStudents().length;
    if (showing !== students.length) parts.push(` (showing ${showing})`);
    $('summary').replaceChildren(...parts);
  }

  function gridHead(lessons) {
    const top = el('tr', {},
      el('th', { scope: 'col', rowspan: 2 }, 'Student'),
      el('th', { scope: 'col', rowspan: 2 }, 'Now'),
      lessons.map((l) => el('th', { scope: 'colgroup', colspan: Math.max(1, stagesOf(l).length), className: 'lesson' }, l.title || l.id)));
    const stages = el('tr', {}, lessons.map((l) => stagesOf(l).map((title, i) =>
      el('th', { scope: 'col', className: 'stage', title: `${l.title}, stage ${i + 1}: ${title}` },
        String(i + 1), el('span', { className: 'visually-hidden' }, `: ${title}`)))));
    return el('thead', {}, top, stages);
  }

  function cellStatus(student, lesson, index) {
    const here = student.lesson === lesson.id && student.stage === index;
    if (here && (student.status === 'stuck' || student.status === 'error')) return student.status;
    return student.stages?.[`${lesson.id}/${index}`] || 'none';
  }

  function gridRow(student, lessons) {
    const info = statusOf(student.status);
    const time = ['working', 'stuck'].includes(student.status) ? ` ${minutes(student.minutesOnStage)}` : '';
    const button = el('button', { type: 'button', className: 'student-button', 'data-name': student.name,
      title: `Show ${student.name}'s requests, repositories and progress` }, student.name);
    const row = el('tr', { 'data-name': student.name, className: student.name === selected ? 'selected' : '' },
      el('th', { scope: 'row', className: 'student' }, button),
      el('td', { className: 'now' }, el('span', { className: 'status-word' },
        mark(student.status, info.word), `${info.word}${time}`)));
    for (const lesson of lessons) {
      stagesOf(lesson).forEach((title, i) => {
        const status = cellStatus(student, lesson, i);
        const word = status === 'none' ? 'not reached' : statusOf(status).word;
        const label = `${student.name}, ${lesson.title} stage ${i + 1} (${title}): ${word}`;
        const cell = status === 'none'
          ? el('span', { className: 'mark s-none', title: label, 'aria-label': label }, '\u00b7')
          : mark(status, label);
        row.append(el('td', { className: 'cell', 'data-stage': `${lesson.id}/${i}` }, cell));
      });
    }
    return row;
  }

  function gridFoot(lessons) {
    const counts = state.counts || {};
    const rows = COUNTED.filter((status) => status !== 'error'
      || Object.values(counts).some((c) => typeof c?.error === 'number'));
    return el('tfoot', {}, rows.map((status) => el('tr', {},
      el('th', { scope: 'row', colspan: 2 }, `${statusOf(status).word} (${statusOf(status).letter})`),
      lessons.map((l) => stagesOf(l).map((_, i) => el('td', { 'data-count': `${l.id}/${i}/${status}` },
        String(counts[`${l.id}/${i}`]?.[status] ?? 0)))))));
  }

  function renderGrid() {
    const focused = document.activeElement?.closest?.('#grid') ? document.activeElement.dataset.name : null;
    const lessons = visibleLessons();
    const students = visibleStudents();
    const grid = $('grid');
    grid.replaceChildren(
      el('caption', { className: 'visually-hidden' }, 'Students (rows) by lesson stages (columns)'),
      gridHead(lessons),
      el('tbody', {}, students.map((s) => gridRow(s, lessons))),
      gridFoot(lessons));
    const empty = $('grid-empty');
    empty.hidden = students.length > 0;
    empty.textContent = (state.students || []).length === 0
      ? 'No student has joined yet. Students join with: ecr-lab join URL --name THEIR-NAME'
      : 'No student matches the filters.';
    if (focused) grid.querySelector(`button[data-name="${CSS.escape(focused)}"]`)?.focus();
  }

  function renderStuck() {
    const limit = state.stuckAfterMinutes;
    $('stuck-heading').textContent = `Stuck (over ${limit} min on one stage)`;
    const stuck = (state.students || []).filter((s) => s.status === 'stuck')
      .sort((a, b) => (b.minutesOnStage || 0) - (a.minutesOnStage || 0));
    $('stuck-list').replaceChildren(...stuck.map((s) => el('li', { 'data-name': s.name },
      el('span', { className: 'minutes' }, minutes(s.minutesOnStage)),
      el('span', {}, el('button', { type: 'button', className: 'student-button', 'data-name': s.name }, s.name),
        el('span', { className: 'where' }, where(s))))));
    $('stuck-empty').hidden = stuck.length > 0;
  }

  // ---- the selected student ----

  function select(name) {
    selected = name;
    for (const row of document.querySelectorAll('#grid tbody tr')) row.classList.toggle('selected', row.dataset.name === name);
    renderFaultTarget();
    const pane = $('detail');
    pane.hidden = !name;
    for (const key of Object.keys(shown)) delete shown[key];
    if (name) {
      $('detail-title').textContent = name;
      for (const id of ['detail-facts', 'detail-requests', 'detail-repositories', 'detail-events']) $(id).replaceChildren();
      $('detail-note').textContent = 'Loading…';
      pane.scrollIntoView({ block: 'nearest' });
      loadDetail();
    }
  }

  async function loadDetail() {
    const name = selected;
    try {
      const response = await api(`/class/api/students/${encodeURIComponent(name)}`);
      if (name !== selected) return;
      if (!response.ok) {
        $('detail-note').textContent = await errorText(response);
        return;
      }
      renderDetail(await response.json());
    } catch {
      // the state poll reports an unreachable server
    }
  }

  /** Redraws one part of the pane only when its data changed (keeps scroll positions). */
  function part(id, data, draw) {
    const text = JSON.stringify(data ?? null);
    if (shown[id] === text) return;
    shown[id] = text;
    $(id).replaceChildren(...draw(data));
  }

  function renderDetail(d) {
    $('detail-note').textContent = '';
    part('detail-facts', { ...d, requests: undefined, repositories: undefined, events: undefined }, facts);
    part('detail-requests', d.requests || [], requests);
    part('detail-repositories', d.repositories || [], repositories);
    part('detail-events', d.events || [], events);
  }

  function facts(d) {
    const info = statusOf(d.status);
    const pairs = [
      ['Status', el('span', { className: 'status-word' }, mark(d.status, info.word), info.word)],
      ['Now at', where(d)],
      ['On this stage', minutes(d.minutesOnStage)],
      ['Account', d.account],
      ['Joined', clock(d.joinedAt)],
      ['Last seen', clock(d.lastSeen)],
      ['Checks', `${d.checksPassed ?? 0} passed, ${d.checksFailed ?? 0} failed`],
      ['Help opened', `${d.hints ?? 0} hints, ${d.solutions ?? 0} solutions`],
      ['Faults armed', (d.faults || []).length ? d.faults.join(', ') : 'none'],
    ];
    const list = el('dl', { className: 'detail-facts' }, pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    const e = d.lastError;
    const error = e ? el('div', { className: 'last-error', 'data-testid': 'last-error' },
      el('strong', {}, `Last error at ${clock(e.at)}: `),
      `${e.status ?? ''} ${e.code ?? ''}`.trim(), e.message ? ` \u2014 ${e.message}` : '', e.api ? ` (${e.api})` : '') : null;
    return [list, error].filter(Boolean);
  }

  function table(head, rows, empty) {
    if (!rows.length) return [el('p', { className: 'muted' }, empty)];
    return [el('div', { className: 'scroll' }, el('table', {},
      el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows)))];
  }

  function requests(list) {
    return table(['Time', 'Request', 'Status', 'Error'], list.map((r) => el('tr', { className: r.status >= 400 ? 'failed' : '' },
      el('td', {}, clock(r.at)),
      el('td', { className: 'message' }, `${r.api && r.api !== 'other' ? `${r.api} ` : ''}`, el('code', {}, `${r.method} ${r.path}`)),
      el('td', {}, String(r.status ?? '')),
      el('td', { className: 'message' }, [r.code, r.message].filter(Boolean).join(': ')))), 'No requests from this student yet.');
  }

  function repositories(list) {
    return table(['Repository', 'Images', 'Tags'], list.map((r) => el('tr', {},
      el('td', {}, el('code', {}, r.name)),
      el('td', {}, String(r.imageCount ?? 0)),
      el('td', { className: 'message' }, (r.tags || []).join(', ')))), 'No repositories in this student\'s account.');
  }

  function events(list) {
    return table(['Time', 'Where', 'Event', 'Detail'], list.map((e) => {
      const lesson = lessonOf(e.lesson);
      const place = `${lesson ? lesson.title : e.lesson ?? ''}${typeof e.stage === 'number' ? `, stage ${e.stage + 1}` : ''}`;
      return el('tr', { className: e.event === 'check-failed' ? 'failed' : '' },
        el('td', {}, clock(e.at)), el('td', {}, place), el('td', {}, String(e.event ?? '')), el('td', { className: 'message' }, e.detail ?? ''));
    }), 'No progress reported yet.');
  }

  // ---- faults ----

  function renderFaultTarget() {
    const one = $('target-student');
    const present = Boolean(selected) && (state?.students || []).some((s) => s.name === selected);
    $('target-student-name').textContent = present ? selected : 'none (click a name in the grid)';
    if (present && one.disabled && !$('target-all').checked) one.checked = true;
    one.disabled = !present;
    if (!present) one.checked = false;
  }

  async function sendFault(action) {
    const result = $('fault-result');
    const fault = $('fault').value;
    const all = $('target-all').checked;
    if (!all && !(selected && $('target-student').checked)) {
      showResult(true, 'Choose who: click a student\'s name in the grid (then "Selected student"), or pick "All students".');
      return;
    }
    const body = { fault, students: all ? 'all' : [selected], repository: $('fault-repository').value.trim() || 'test', action };
    result.hidden = true;
    for (const b of document.querySelectorAll('#fault-form button')) b.disabled = true;
    try {
      const response = await api('/class/api/faults', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      if (!response.ok) {
        showResult(true, await errorText(response));
        return;
      }
      const answer = await response.json();
      const verb = action === 'arm' ? 'Armed' : 'Cleared';
      const who = all ? 'all students' : selected;
      showResult(false, `${verb} ${fault} for ${who}.`, (answer.applied || []).map((a) => `${a.student}: ${a.effect}`));
    } catch (error) {
      showResult(true, `The fault was not sent: the server did not answer (${error?.message || error}). Try again when the page says Live.`);
    } finally {
      for (const b of document.querySelectorAll('#fault-form button')) b.disabled = false;
    }
  }

  function showResult(failed, text, items = []) {
    const result = $('fault-result');
    result.className = failed ? 'result error' : 'result';
    result.replaceChildren(el('span', {}, text), items.length ? el('ul', {}, items.map((i) => el('li', {}, i))) : null);
    result.hidden = false;
  }

  // ---- large type ----

  function setLarge(on) {
    document.body.classList.toggle('large', on);
    $('large').setAttribute('aria-pressed', String(on));
    try {
      if (on) localStorage.setItem(LARGE_KEY, '1');
      else localStorage.removeItem(LARGE_KEY);
    } catch {
      // storage refused (private mode): the toggle still works for this page
    }
  }

  function storedLarge() {
    try {
      return localStorage.getItem(LARGE_KEY) === '1';
    } catch {
      return false;
    }
  }

  // ---- wiring ----

  setLarge(storedLarge());
  $('large').addEventListener('click', () => setLarge(!document.body.classList.contains('large')));
  for (const id of ['f-lesson', 'f-status', 'f-name']) {
    $(id).addEventListener('input', () => state && (renderSummary(), renderGrid()));
  }
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  document.addEventListener('click', (event) => {
    const button = event.target.closest?.('button.student-button');
    if (button) select(button.dataset.name);
  });
  $('detail-close').addEventListener('click', () => select(null));
  $('fault-form').addEventListener('submit', (event) => event.preventDefault());
  $('arm').addEventListener('click', () => sendFault('arm'));
  $('clear').addEventListener('click', () => sendFault('clear'));
  poll();
})();

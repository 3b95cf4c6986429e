// ecr-lab console: small enhancements. Every page works without this file.
'use strict';
document.documentElement.classList.add('js');

// Copy buttons: the value is in data-copy.
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-copy]');
  if (!button) return;
  const text = button.dataset.copy;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (_) {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    try { copied = document.execCommand('copy'); } catch (_) { copied = false; }
    area.remove();
  }
  button.dataset.label = button.dataset.label || button.textContent;
  button.textContent = copied ? 'Copied' : 'Copy failed';
  setTimeout(() => { button.textContent = button.dataset.label; }, 1500);
});

// Dialogs: a link with data-dialog opens the <dialog> of that id (without script it is a page).
// The page behind the link is still asked for, unseen: opening the dialog is the learner's action
// the lab's request log records (a lesson's console step checks it), as following the link would be.
document.addEventListener('click', (event) => {
  const opener = event.target.closest('[data-dialog]');
  if (!opener) return;
  const dialog = document.getElementById(opener.dataset.dialog);
  if (!dialog || typeof dialog.showModal !== 'function') return;
  event.preventDefault();
  dialog.showModal();
  fetch(opener.href, { credentials: 'same-origin' }).catch(() => {});
});

// The repository name, checked as it is typed with the service's rules and its exact messages.
// The messages come from the server (data-msg-*), made by the parser the API uses.
const nameInput = document.querySelector('input[data-validate="repositoryName"]');
if (nameInput) {
  const error = document.getElementById(nameInput.id + '-error');
  const component = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
  const problem = (value) => {
    const bytes = new TextEncoder().encode(value).length;
    if (bytes < 2) return nameInput.dataset.msgShort;
    if (bytes > 256) return nameInput.dataset.msgLong;
    return value.split('/').every((part) => component.test(part)) ? '' : nameInput.dataset.msgPattern;
  };
  let checking = nameInput.getAttribute('aria-invalid') === 'true';
  const check = () => {
    const message = problem(nameInput.value);
    error.textContent = message;
    if (message) nameInput.setAttribute('aria-invalid', 'true');
    else nameInput.removeAttribute('aria-invalid');
    return message;
  };
  nameInput.form.addEventListener('submit', (event) => {
    checking = true;
    if (check()) {
      event.preventDefault();
      nameInput.focus();
    }
  });
  nameInput.addEventListener('input', () => { if (checking) check(); });
  nameInput.addEventListener('blur', () => {
    if (nameInput.value !== '') { checking = true; check(); }
  });
}

// Typing the confirmation word enables a delete button.
document.querySelectorAll('input[data-confirm]').forEach((input) => {
  const button = input.form.querySelector('button[type="submit"]');
  const sync = () => { button.disabled = input.value.trim() !== input.dataset.confirm; };
  input.addEventListener('input', sync);
  sync();
});

// Filtering a table as you type (the search form also works without script).
const filter = document.querySelector('input[data-filter]');
if (filter) {
  const table = document.getElementById(filter.dataset.filter);
  const apply = () => {
    const needle = filter.value.trim().toLowerCase();
    table.querySelectorAll('tbody tr[data-name]').forEach((row) => {
      row.hidden = needle !== '' && !row.dataset.name.includes(needle);
    });
  };
  filter.addEventListener('input', apply);
  document.addEventListener('console:rows', apply);
}

// Live tables: poll the JSON beside the page every 2 s; swap the rows when their fingerprint
// changes, keep ticked boxes and focus, mark and announce new rows. An error (a revoked key, a deleted
// repository) reloads the page, which then shows the service's message.
// A selector that finds the same control again in re-rendered rows (keyboard focus survives an update).
const refind = (element) => {
  if (element.id) return `#${CSS.escape(element.id)}`;
  for (const name of ['href', 'data-copy']) {
    const value = element.getAttribute(name);
    if (value) return `${element.localName}[${name}="${CSS.escape(value)}"]`;
  }
  return null;
};

document.querySelectorAll('tbody[data-live]').forEach((tbody) => {
  let fingerprint = tbody.dataset.fingerprint;
  const status = document.getElementById('live-status');
  const tick = async () => {
    try {
      const response = await fetch(tbody.dataset.live, { cache: 'no-store', headers: { accept: 'application/json' } });
      const data = await response.json();
      if (data.error) {
        location.reload();
        return;
      }
      if (data.fingerprint !== fingerprint) {
        const keys = (body) => [...body.querySelectorAll('tr[data-key]')].map((row) => row.dataset.key);
        const before = new Set(keys(tbody));
        const ticked = new Set([...tbody.querySelectorAll('input[type="checkbox"]:checked')].map((box) => box.value));
        const focused = tbody.contains(document.activeElement) ? refind(document.activeElement) : null;
        tbody.innerHTML = data.rows;
        if (focused) tbody.querySelector(focused)?.focus();
        fingerprint = data.fingerprint;
        tbody.dataset.fingerprint = fingerprint;
        tbody.querySelectorAll('input[type="checkbox"]').forEach((box) => { box.checked = ticked.has(box.value); });
        const fresh = [...tbody.querySelectorAll('tr[data-key]')].filter((row) => !before.has(row.dataset.key));
        fresh.forEach((row) => row.classList.add('fresh'));
        document.querySelectorAll(`[data-live-count="${tbody.dataset.countOf}"]`).forEach((count) => {
          count.textContent = `(${data.count})`;
        });
        if (status && fresh.length) status.textContent = `New: ${fresh.map((row) => row.dataset.label).join('; ')}`;
        document.dispatchEvent(new CustomEvent('console:rows', { detail: tbody }));
      }
    } catch (_) {
      // The server may be restarting; try again next time.
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
});

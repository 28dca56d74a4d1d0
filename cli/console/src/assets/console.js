// imagegen console: the little script the pages need. Text from the server is only ever put in
// with textContent (never innerHTML of strings), and whole page parts are taken from pages the
// server rendered and escaped.
'use strict';

(function () {
  const token = () => document.querySelector('meta[name="csrf-token"]').content;

  // Fetch this page again and put its part `id` in place of ours (no reload).
  async function refresh(id) {
    const response = await fetch(location.href, { headers: { accept: 'text/html' } });
    if (!response.ok) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
    const part = fresh.getElementById(id);
    const ours = document.getElementById(id);
    if (!part || !ours) return false;
    ours.replaceWith(document.adoptNode(part));
    return true;
  }

  // The executions list: reload the table whenever an execution starts or ends.
  function executions() {
    let pending = null;
    const events = new EventSource('/console/events');
    events.addEventListener('change', () => {
      clearTimeout(pending);
      pending = setTimeout(() => refresh('executions'), 100);
    });
  }

  // One execution: colour the graph and add history rows as events arrive; when it ends, take the
  // whole page part again (status, error, images, email, output).
  function execution() {
    const root = document.getElementById('execution');
    if (!root || root.dataset.live !== 'true') return;
    const url = root.dataset.events + '?after=' + encodeURIComponent(root.dataset.after);
    const events = new EventSource(url);
    events.addEventListener('history', (message) => {
      const data = JSON.parse(message.data);
      for (const change of data.changes) {
        for (const node of document.querySelectorAll('svg.graph g.state')) {
          if (node.dataset.state === change.state) node.dataset.status = change.status;
        }
      }
      const row = document.createElement('tr');
      for (const cell of data.row) {
        const td = document.createElement('td');
        td.textContent = cell;
        row.appendChild(td);
      }
      const body = document.getElementById('history');
      if (body) body.appendChild(row);
    });
    events.addEventListener('ended', async () => {
      events.close();
      clearInterval(ticking);
      await refresh('execution');
      execution();
    });
    const ticking = setInterval(tick, 250);
  }

  // "Running for": counted on in the browser from the start date the server wrote, formatted as
  // the server formats durations (html::duration in the console crate).
  function tick() {
    const field = document.getElementById('running-for');
    if (!field) return;
    const seconds = Math.max(0, (Date.now() - Number(field.dataset.since)) / 1000);
    let text;
    if (seconds < 1) text = Math.round(seconds * 1000) + ' ms';
    else if (seconds < 60) text = seconds.toFixed(1) + ' s';
    else {
      const whole = Math.round(seconds);
      text = Math.floor(whole / 60) + ' min ' + (whole % 60) + ' s';
    }
    field.textContent = text;
  }

  // The JSON box: say at once when the input is not JSON, and never send it then.
  function jsonBox() {
    const form = document.getElementById('json-form');
    if (!form) return;
    const box = document.getElementById('json-input');
    const error = document.getElementById('json-error');
    const check = () => {
      try {
        JSON.parse(box.value);
        box.removeAttribute('aria-invalid');
        error.textContent = '';
        return true;
      } catch (e) {
        box.setAttribute('aria-invalid', 'true');
        error.textContent = 'The input is not JSON: ' + e.message;
        return false;
      }
    };
    box.addEventListener('input', check);
    form.addEventListener('submit', (event) => {
      if (!check()) {
        event.preventDefault();
        box.focus();
      }
    });
  }

  // The drop zone: upload the file as it is under the prompt prefix, then open its execution.
  function dropZone() {
    const zone = document.getElementById('drop');
    if (!zone) return;
    const status = document.getElementById('drop-status');
    const upload = async (file) => {
      status.className = '';
      status.textContent = 'Uploading ' + file.name + '…';
      const response = await fetch(zone.dataset.action + '?name=' + encodeURIComponent(file.name), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-csrf-token': token() },
        body: await file.arrayBuffer(),
      });
      let answer = {};
      try { answer = await response.json(); } catch (e) { answer = { error: 'The server answered ' + response.status + '.' }; }
      if (response.ok && answer.url) {
        location.assign(answer.url);
      } else {
        status.className = 'error';
        status.textContent = answer.error || 'The upload failed.';
      }
    };
    zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      zone.classList.remove('over');
      const file = event.dataTransfer.files[0];
      if (file) upload(file);
    });
    document.getElementById('file').addEventListener('change', (event) => {
      const file = event.target.files[0];
      if (file) upload(file);
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    const page = document.body.dataset.page;
    if (page === 'executions') executions();
    if (page === 'execution') execution();
    if (page === 'start') { jsonBox(); dropZone(); }
  });
})();

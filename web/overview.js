// Overview pages of an account: tags with tag routing and the default handler, run history with
// per-step results, versions with rollback, dead letters with replay.

import { accountPath, ApiError } from './api.js';
import { h, clear, field, pretty } from './dom.js';

function errorNotice(app, e) {
  return h('p', { class: 'notice error', role: 'alert' }, app.errorText(e));
}

// ---- tags, tag routing, default handler -------------------------------------------------------

// The account's inbound route that routes by tag: on inbound_message, a tag_router step first.
function findTagRoute(app) {
  const routes = app.account.routes || [];
  const index = routes.findIndex((r) => r.on?.event_type === 'inbound_message' && !r.on?.conversation_key &&
    (r.chain || []).some((s) => app.handlerType(s.handler) === 'tag_router'));
  return index;
}

export async function tagsView(main, app) {
  const account = app.account;
  const key = app.key;
  const readOnly = account.source === 'file';
  const tags = account.tags || [];
  const conversations = Object.entries(account.conversations || {});
  const result = h('div', { id: 'tags-result', 'aria-live': 'polite' });

  const tagList = h('ul', { class: 'tags' }, tags.map((tag) => {
    const release = h('button', { type: 'button', class: 'small danger', disabled: readOnly, 'aria-label': `Release tag ${tag}` }, 'Release');
    release.addEventListener('click', async () => {
      try {
        await app.api.del(accountPath(key, 'tags', tag), app.etag);
        await app.reloadAccount();
        app.notify(`Tag ${tag} released.`);
        app.route();
      } catch (e) {
        clear(result, errorNotice(app, e));
      }
    });
    return h('li', {}, h('code', {}, tag), ' ', release);
  }));
  const claimInput = h('input', { type: 'text', id: 'claim-tag', autocomplete: 'off', spellcheck: 'false', placeholder: 'longcode:12345' });
  const claimForm = h('form', { class: 'inline', novalidate: true },
    field('Claim a tag (pool:tag)', claimInput, { help: 'A tag has one owner: a tag another account owns is refused, naming it.' }),
    h('button', { type: 'submit', disabled: readOnly }, 'Claim'));
  claimForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await app.api.put(accountPath(key, 'tags', claimInput.value.trim()));
      await app.reloadAccount();
      app.notify(`Tag ${claimInput.value.trim()} claimed.`);
      app.route();
    } catch (e) {
      clear(result, errorNotice(app, e));
    }
  });

  // Tag routing: tag -> conversation, the rest to the default handler.
  const index = findTagRoute(app);
  const current = index >= 0 ? account.routes[index] : null;
  const routerStep = current?.chain.find((s) => app.handlerType(s.handler) === 'tag_router');
  const defaultStep = current?.chain.find((s) => app.handlerType(s.handler) === 'default_account_handler');
  const mapping = routerStep?.config?.routes || {};
  const selects = tags.map((tag) => {
    const select = h('select', { dataset: { tag } }, h('option', { value: '' }, 'the default handler'),
      conversations.map(([k, t]) => h('option', { value: k, selected: mapping[tag] === k }, `${k} (${t})`)));
    return field(`Messages on ${tag} go to`, select);
  });
  const useDefault = h('input', { type: 'checkbox', id: 'use-default', checked: current ? Boolean(defaultStep) : true });
  const autoReply = h('input', { type: 'text', id: 'auto-reply', value: defaultStep?.config?.auto_reply || '' });
  const routingForm = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'h-routing' },
    h('h3', { id: 'h-routing' }, 'Tag routing and the default handler'),
    h('p', { class: 'help' }, current ? `Route ${index + 1} does this.` : 'No route routes inbound messages by tag yet; saving adds one.'),
    tags.length ? selects : h('p', {}, 'Claim a tag first.'),
    h('div', { class: 'checkbox' }, useDefault, h('label', { for: 'use-default' }, 'Messages on other tags go to the default handler (kept in the inbox)')),
    field('Auto-reply of the default handler (optional)', autoReply, { help: 'Sent back to the sender; empty: no reply.' }),
    h('button', { type: 'submit', class: 'primary', disabled: readOnly || !tags.length }, 'Save tag routing'));
  routingForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const doc = app.document();
    doc.handlers = { ...(doc.handlers || {}) };
    const instance = (type, name) => {
      const existing = app.instancesOf(type)[0];
      if (existing) return existing.name;
      let candidate = name;
      for (let i = 2; doc.handlers[candidate] || app.globalHandlers[candidate]; i += 1) candidate = `${name}_${i}`;
      doc.handlers[candidate] = { type };
      return candidate;
    };
    const routes = {};
    for (const wrapper of selects) {
      const select = wrapper.querySelector('select');
      if (select.value) routes[select.dataset.tag] = select.value;
    }
    const chain = [{ handler: routerStep?.handler || instance('tag_router', 'router'), config: { routes } }];
    if (useDefault.checked) {
      chain.push({ handler: defaultStep?.handler || instance('default_account_handler', 'fallback'),
        config: autoReply.value.trim() ? { auto_reply: autoReply.value.trim() } : {} });
    }
    if (!Object.keys(doc.handlers).length) delete doc.handlers;
    const route = { on: { event_type: 'inbound_message' }, chain };
    doc.routes = (doc.routes || []).map((r) => { const c = { ...r }; delete c.index; return c; });
    if (index >= 0) doc.routes[index] = { ...doc.routes[index], ...route };
    else doc.routes.push(route);
    try {
      const { body, etag } = await app.api.put(accountPath(key), doc, app.etag);
      app.account = body;
      app.etag = etag;
      app.notify(`Tag routing saved: version ${body.version}.`);
      app.route();
    } catch (e) {
      clear(result, errorNotice(app, e));
    }
  });

  clear(main,
    h('h2', {}, `Tags and default handler of ${key}`),
    readOnly ? h('p', { class: 'notice warn' }, 'This account is defined in the config file: read-only here.') : null,
    h('section', { class: 'card', 'aria-labelledby': 'h-tags' }, h('h3', { id: 'h-tags' }, 'Tags'),
      tags.length ? tagList : h('p', {}, 'The account owns no tags.'), claimForm),
    routingForm, result);
}

// ---- run history -----------------------------------------------------------------------------

export async function runsView(main, app) {
  const key = app.key;
  const status = h('select', { id: 'run-status' }, ['', 'ok', 'failed', 'unrouted'].map((s) => h('option', { value: s }, s || 'any')));
  const type = h('input', { type: 'text', id: 'run-type', autocomplete: 'off' });
  const list = h('div', { id: 'runs', 'aria-live': 'polite' });
  const filters = h('form', { class: 'inline filters', novalidate: true },
    field('Status', status), field('Event type', type), h('button', { type: 'submit' }, 'Show'));
  async function load() {
    const query = new URLSearchParams({ limit: '100' });
    if (status.value) query.set('status', status.value);
    if (type.value.trim()) query.set('event_type', type.value.trim());
    try {
      const { body } = await app.api.get(`${accountPath(key, 'runs')}?${query}`);
      clear(list, body.runs.length ? h('ol', { class: 'runs' }, body.runs.map((run) => h('li', { class: `card run run-${run.status}` },
        h('p', {}, h('strong', {}, run.event_type || '(no type)'), ` from ${run.conversation_type}/${run.conversation_key}`,
          h('span', { class: `badge ${run.status}` }, run.status)),
        h('p', { class: 'help' }, `${run.time} · event ${run.event_id || '(no id)'}`),
        run.event_id ? retryButton(run) : null,
        run.routes.map((r) => h('details', { open: true }, h('summary', {}, `${r.route}: ${r.ok ? 'ok' : 'failed'}`),
          h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Step'), h('th', { scope: 'col' }, 'Handler'), h('th', { scope: 'col' }, 'Result'), h('th', { scope: 'col' }, 'ms'))),
            h('tbody', {}, r.steps.map((s) => [
              h('tr', {}, h('td', {}, String(s.index + 1)), h('td', {}, s.handler), h('td', {}, s.result), h('td', {}, s.duration_ms.toFixed(2))),
              s.error ? h('tr', { class: 'error-row' }, h('td', { colspan: 4 }, s.error)) : null]))))))))
        : h('p', {}, 'No runs kept (the history is in memory: it starts empty when the daemon starts).'));
    } catch (e) {
      clear(list, errorNotice(app, e));
    }
  }
  // A dry run of the kept event against the routes as they are now (after a fix, say).
  function retryButton(run) {
    const out = h('div', { class: 'dry-run', 'aria-live': 'polite' });
    const button = h('button', { type: 'button', class: 'small', 'aria-label': `Dry run event ${run.event_id} on the current routes` }, 'Dry run on the current routes');
    button.addEventListener('click', async () => {
      try {
        const { body } = await app.api.post(accountPath(key, 'routes', 'test'), { event_id: run.event_id });
        clear(out, body.routes.length ? h('ul', {}, body.routes.map((r) => h('li', {}, `${r.route}: ${r.ok ? 'ok' : 'failed'} — `,
          r.steps.map((st) => `${st.handler} ${st.result}${st.error ? ` (${st.error})` : ''}`).join(', then '))))
          : h('p', {}, 'No route matches it now.'));
      } catch (e) {
        clear(out, errorNotice(app, e));
      }
    });
    return h('div', {}, button, out);
  }
  filters.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  clear(main, h('h2', {}, `Run history of ${key}`), filters, list);
  await load();
}

// ---- versions --------------------------------------------------------------------------------

export async function historyView(main, app) {
  const key = app.key;
  const result = h('div', { 'aria-live': 'polite' });
  if (app.account.source === 'file') {
    clear(main, h('h2', {}, `Versions of ${key}`), h('p', {}, 'This account is defined in the config file: its history is the file\'s.'));
    return;
  }
  const { body } = await app.api.get(`${accountPath(key, 'history')}?limit=50`);
  const current = app.account.version;
  const list = h('ol', { class: 'versions', reversed: true }, body.versions.map((v) => {
    const rollback = v.version === current ? h('span', { class: 'badge' }, 'current')
      : h('button', { type: 'button', class: 'small', 'aria-label': `Roll back to version ${v.version}` }, 'Roll back to this version');
    if (v.version !== current) {
      rollback.addEventListener('click', async () => {
        try {
          const { body: restored, etag } = await app.api.post(accountPath(key, 'rollback'), { version: v.version });
          app.account = restored;
          app.etag = etag;
          app.notify(`Rolled back: version ${restored.version} has version ${v.version}'s document.`);
          app.route();
        } catch (e) {
          clear(result, errorNotice(app, e));
        }
      });
    }
    const changes = Array.isArray(v.diff) ? v.diff : [];
    return h('li', { class: 'card', value: v.version },
      h('p', {}, h('strong', {}, `Version ${v.version}`), ` · ${v.time} · by ${v.token}`),
      h('p', { class: 'help' }, changes.length ? changes.slice(0, 4).map((c) => `${c.op} ${c.path || '/'}`).join('; ') + (changes.length > 4 ? `; ${changes.length - 4} more` : '') : 'created'),
      h('details', {}, h('summary', {}, 'Changes'), h('pre', {}, pretty(changes))),
      rollback);
  }));
  clear(main, h('h2', {}, `Versions of ${key}`), result, list);
}

// ---- dead letters ----------------------------------------------------------------------------

export async function deadLettersView(main, app) {
  const key = app.key;
  const result = h('div', { id: 'replay-result', 'aria-live': 'polite' });
  const { body } = await app.api.get(`${accountPath(key, 'dead-letters')}?limit=200`);
  const letters = body.dead_letters || [];
  const boxes = [];
  const list = h('ul', { class: 'letters' }, letters.map((d) => {
    const box = h('input', { type: 'checkbox', id: `dl-${d.id}`, value: String(d.id) });
    boxes.push(box);
    return h('li', { class: 'card' },
      h('div', { class: 'checkbox' }, box, h('label', { for: `dl-${d.id}` }, `#${d.id} ${d.reason}`)),
      h('p', {}, d.message),
      h('p', { class: 'help' }, [d.created_at, d.route, d.step].filter(Boolean).join(' · ')),
      h('details', {}, h('summary', {}, 'Input'), h('pre', {}, d.input)));
  }));
  async function replay(dryRun) {
    const ids = boxes.filter((b) => b.checked).map((b) => Number(b.value));
    if (!ids.length) {
      clear(result, h('p', { class: 'notice warn' }, 'Select the dead letters to replay first.'));
      return;
    }
    try {
      const { body: answer } = await app.api.post(accountPath(key, 'dead-letters', 'replay'), dryRun ? { ids, dry_run: true } : { ids });
      clear(result, h('div', { class: 'notice ok' },
        h('p', {}, `${dryRun ? 'Would replay' : 'Replayed'}: ${answer.replayed.map((i) => `#${i}`).join(', ') || 'none'}`),
        answer.skipped?.length ? h('ul', {}, answer.skipped.map((s) => h('li', {}, `#${s.id} skipped: ${s.why}`))) : null));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
        clear(result, h('p', { class: 'notice warn' }, 'Replay is not available on this daemon (no /dead-letters/replay); use vumi-dispatcher dead-letters replay.'));
      } else {
        clear(result, errorNotice(app, e));
      }
    }
  }
  clear(main, h('h2', {}, `Dead letters of ${key}`),
    letters.length ? [list,
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'replay-dry', onclick: () => replay(true) }, 'Dry run the replay'),
        h('button', { type: 'button', class: 'primary', id: 'replay', onclick: () => replay(false) }, 'Replay selected'))]
      : h('p', {}, 'No dead letters.'),
    result);
}

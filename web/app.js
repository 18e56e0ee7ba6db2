// The page: sign-in, the account's navigation, and the views (hash routes):
//   #/a/<key>            routes as sentences (enable, disable, edit, delete)
//   #/a/<key>/new        the step-by-step flow for a new event handler; #/a/<key>/edit/<n> for route n
//   #/a/<key>/tags       tags, tag routing and the default handler
//   #/a/<key>/runs       run history with per-step results
//   #/a/<key>/history    versions with rollback
//   #/a/<key>/dead       dead letters with replay

import { Api, ApiError, accountPath } from './api.js';
import { h, clear } from './dom.js';
import { sentence } from './sentences.js';
import { flowView } from './flow.js';
import { tagsView, runsView, historyView, deadLettersView } from './overview.js';

const TOKEN_KEY = 'vumi-dispatcher-token';

const app = {
  api: null,
  operator: false,
  accounts: [],
  key: '',
  account: null,  // the account's document with key, source, version
  etag: '',
  types: {},  // handler type name -> {name, description, output, options_schema, step_schema, plugin}
  globalHandlers: {},

  // The handler type of an instance name (the account's own first, then global).
  handlerType(name) {
    const own = this.account?.handlers?.[name];
    if (own) return own.type;
    return this.globalHandlers[name]?.type || name;
  },

  // Instances of a type usable by this account: [{name, scope}].
  instancesOf(type) {
    const out = [];
    for (const [name, handler] of Object.entries(this.account?.handlers || {}))
      if (handler.type === type) out.push({ name, scope: 'this account' });
    for (const [name, handler] of Object.entries(this.globalHandlers))
      if (handler.type === type && !this.account?.handlers?.[name]) out.push({ name, scope: 'global' });
    return out;
  },

  // The account's document as PUT takes it (no key, source, version).
  document() {
    const doc = structuredClone(this.account || {});
    delete doc.key;
    delete doc.source;
    delete doc.version;
    return doc;
  },

  async reloadAccount() {
    const { body, etag } = await this.api.get(accountPath(this.key));
    this.account = body;
    this.etag = etag;
    return body;
  },

  // A message in the live region at the top.
  notify(message, kind = 'ok') {
    const notice = document.getElementById('notice');
    clear(notice, message ? h('p', { class: `notice ${kind}` }, message) : null);
  },

  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
};

function errorText(e) {
  return e instanceof ApiError ? e.message : String(e && e.message ? e.message : e);
}

// ---- sign-in ---------------------------------------------------------------------------------

async function signIn(token) {
  const api = new Api(token);
  const accounts = (await api.get('/api/accounts')).body.accounts;
  let operator = false;
  try {
    await api.get('/api/tokens');
    operator = true;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
  }
  const plugins = (await api.get('/api/plugins')).body;
  app.api = api;
  app.operator = operator;
  app.accounts = accounts;
  app.types = {};
  for (const plugin of plugins.plugins)
    for (const type of plugin.handler_types) app.types[type.name] = { ...type, plugin: plugin.name };
  app.globalHandlers = plugins.global_handlers || {};
  sessionStorage.setItem(TOKEN_KEY, token);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  app.api = null;
  app.account = null;
  app.key = '';
  app.notify('');
  location.hash = '#/';
  route();
}

function signInView(main, problem = '') {
  const token = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help token-error' });
  const error = h('p', { class: 'field-error', id: 'token-error', hidden: !problem }, problem);
  const form = h('form', { class: 'card signin', novalidate: true },
    h('h2', {}, 'Sign in'),
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'Token'),
      token,
      h('p', { class: 'help', id: 'token-help' }, 'An account token (vumi-dispatcher tokens create), or the operator token (admin.token_file), which can open every account. It stays in this tab only.'),
      error),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await signIn(token.value.trim());
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 401 ? 'That token is not valid here.' : errorText(e);
      error.hidden = false;
      token.setAttribute('aria-invalid', 'true');
      token.focus();
      return;
    }
    const first = app.accounts[0];
    location.hash = first ? `#/a/${encodeURIComponent(first.key)}` : '#/none';
    route();
  });
  clear(main, form);
  token.focus();
}

// ---- chrome ----------------------------------------------------------------------------------

function renderSession() {
  const session = document.getElementById('session');
  if (!app.api) {
    clear(session);
    return;
  }
  let who;
  if (app.operator) {
    const select = h('select', { id: 'account-picker' },
      app.accounts.map((a) => h('option', { value: a.key, selected: a.key === app.key }, `${a.key}${a.source === 'file' ? ' (config file)' : ''}`)));
    select.addEventListener('change', () => { location.hash = `#/a/${encodeURIComponent(select.value)}`; });
    who = h('span', { class: 'picker-wrap' }, h('label', { for: 'account-picker' }, 'Account'), select,
      h('span', { class: 'badge' }, 'operator'));
  } else {
    who = h('span', {}, 'Account ', h('strong', {}, app.key || app.accounts[0]?.key || ''));
  }
  clear(session, who, h('button', { type: 'button', class: 'small', onclick: signOut }, 'Sign out'));
}

function renderNav(view) {
  const nav = document.getElementById('nav');
  if (!app.api || !app.key) {
    clear(nav);
    return;
  }
  const base = `#/a/${encodeURIComponent(app.key)}`;
  const links = [
    ['routes', base, 'Event handlers'],
    ['new', `${base}/new`, 'New event handler'],
    ['tags', `${base}/tags`, 'Tags and default handler'],
    ['runs', `${base}/runs`, 'Run history'],
    ['history', `${base}/history`, 'Versions'],
    ['dead', `${base}/dead`, 'Dead letters'],
  ];
  clear(nav, h('ul', {}, links.map(([id, href, text]) =>
    h('li', {}, h('a', { href, 'aria-current': id === view ? 'page' : null }, text)))));
}

// ---- routes overview -------------------------------------------------------------------------

async function routesView(main) {
  const account = app.account;
  const base = `#/a/${encodeURIComponent(app.key)}`;
  const readOnly = account.source === 'file';
  const list = h('ol', { class: 'routes' });
  (account.routes || []).forEach((r, index) => {
    const enabled = r.enabled !== false;
    const toggle = h('button', { type: 'button', class: 'small', disabled: readOnly }, enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', async () => {
      const next = structuredClone(r);
      delete next.index;
      if (enabled) next.enabled = false;
      else delete next.enabled;
      try {
        await app.api.put(accountPath(app.key, 'routes', String(index)), next, app.etag);
        await app.reloadAccount();
        app.notify(`Route ${index + 1} ${enabled ? 'disabled' : 'enabled'}.`);
        route();
      } catch (e) {
        app.notify(errorText(e), 'error');
      }
    });
    const remove = h('button', { type: 'button', class: 'small danger', disabled: readOnly }, 'Delete');
    remove.addEventListener('click', async () => {
      try {
        await app.api.del(accountPath(app.key, 'routes', String(index)), app.etag);
        await app.reloadAccount();
        app.notify(`Route ${index + 1} deleted (the version before it is in Versions).`);
        route();
      } catch (e) {
        app.notify(errorText(e), 'error');
      }
    });
    list.append(h('li', { class: `route${enabled ? '' : ' disabled'}`, dataset: { index } },
      h('p', { class: 'sentence' }, sentence(r, (name) => app.handlerType(name)),
        enabled ? null : h('span', { class: 'badge' }, 'disabled')),
      h('div', { class: 'actions' },
        readOnly ? null : h('a', { class: 'button small', href: `${base}/edit/${index}` }, 'Edit', h('span', { class: 'sr' }, ` route ${index + 1}`)),
        toggle, remove)));
  });
  const conversations = Object.entries(account.conversations || {});
  clear(main,
    h('h2', {}, `Event handlers of ${app.key}`),
    readOnly ? h('p', { class: 'notice warn' }, 'This account is defined in the config file: it is read-only here (edit the file and send SIGHUP).') : null,
    (account.routes || []).length ? list : h('p', {}, 'No event handlers yet.'),
    readOnly ? null : h('p', {}, h('a', { class: 'button primary', href: `${base}/new` }, 'New event handler')),
    h('h3', {}, 'Conversations'),
    conversations.length
      ? h('ul', {}, conversations.map(([k, t]) => h('li', {}, `${k} (${t})`)))
      : h('p', {}, 'None declared.'),
    h('h3', {}, 'Tags'),
    (account.tags || []).length ? h('ul', {}, account.tags.map((t) => h('li', {}, t))) : h('p', {}, 'None.'));
}

// ---- router ----------------------------------------------------------------------------------

async function route() {
  const main = document.getElementById('main');
  const hash = location.hash || '#/';
  const parts = hash.slice(2).split('/').map(decodeURIComponent);
  if (!app.api) {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      try {
        await signIn(saved);
      } catch {
        sessionStorage.removeItem(TOKEN_KEY);
      }
    }
  }
  if (!app.api) {
    renderSession();
    renderNav('');
    signInView(main);
    return;
  }
  if (parts[0] !== 'a' || !parts[1]) {
    const first = app.accounts[0];
    if (first) {
      location.replace(`#/a/${encodeURIComponent(first.key)}`);
      return route();
    }
    app.key = '';
    renderSession();
    renderNav('');
    clear(main, h('h2', {}, 'No accounts'), h('p', {}, 'Create one with POST /api/accounts (operator token); see docs/admin-api.md.'));
    return;
  }
  const key = parts[1];
  const view = parts[2] || 'routes';
  if (key !== app.key || !app.account) {
    app.key = key;
    try {
      await app.reloadAccount();
    } catch (e) {
      app.account = null;
      renderSession();
      renderNav('');
      clear(main, h('h2', {}, `Account ${key}`), h('p', { class: 'notice error' }, errorText(e)));
      return;
    }
  }
  renderSession();
  renderNav(view === 'edit' ? 'new' : view);
  clear(main, h('p', {}, 'Loading…'));
  try {
    if (view === 'routes') await routesView(main);
    else if (view === 'new') await flowView(main, app, null);
    else if (view === 'edit') await flowView(main, app, Number(parts[3]));
    else if (view === 'tags') await tagsView(main, app);
    else if (view === 'runs') await runsView(main, app);
    else if (view === 'history') await historyView(main, app);
    else if (view === 'dead') await deadLettersView(main, app);
    else clear(main, h('h2', {}, 'Not found'), h('p', {}, `No page "${view}".`));
  } catch (e) {
    clear(main, h('h2', {}, 'Something went wrong'), h('p', { class: 'notice error' }, errorText(e)));
  }
  const heading = main.querySelector('h2');
  if (heading) {
    heading.tabIndex = -1;
    if (document.activeElement === document.body || !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  }
}

window.addEventListener('hashchange', () => {
  // A notice made for the page being opened (e.g. "Saved") stays; others go with the old page.
  if (app.keepNotice) app.keepNotice = false;
  else app.notify('');
  route();
});
app.route = route;
app.errorText = errorText;
route();

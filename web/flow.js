// The seed's flow for one event handler (a route): (1) the chain, (2) event source and type with a
// sample event, (3) handler type per step, (4) its options and step config from the plugin's
// schemas with a template picker, (5) more steps, reordered or removed, with output names, (6) a dry
// run of the draft on the sample event, (7) save, with the server's errors beside their fields.

import { accountPath, ApiError } from './api.js';
import { h, clear, field, showFieldError, clearFieldErrors, pretty, uid } from './dom.js';
import { objectFields, populatePicker, pointersOf } from './schema_form.js';
import { sentence } from './sentences.js';

const COMMON_EVENT_TYPES = ['poll_complete', 'inbound_message', 'ack', 'nack', 'delivery_report'];

// Field names a handler type's output description declares ("the stored contact: contact_key, msisdn,
// name" or "message_id and to_addr of the published message").
export function declaredOutputs(description = '') {
  const colon = description.indexOf(':');
  if (colon >= 0) {
    return description.slice(colon + 1).replace(/\([^)]*\)/g, '').split(',')
      .map((part) => (part.trim().match(/^[A-Za-z_][A-Za-z0-9_]*/) || [''])[0]).filter(Boolean);
  }
  return [...new Set(description.match(/\b[a-z]+_[a-z_]+\b/g) || [])];
}

// An example event when the run history has none of this type.
function exampleEvent(key, on) {
  const event = { account_key: key, event_type: on.event_type || 'poll_complete', event_data: {} };
  if (on.conversation_type === 'transport' || on.event_type === 'inbound_message') {
    const tag = on.conversation_key || 'longcode:12345';
    const [pool, ...rest] = tag.split(':');
    event.conversation_type = 'transport';
    event.conversation_key = tag;
    event.event_type = 'inbound_message';
    event.event_data = {
      message_type: 'user_message', message_version: '20110921', message_id: 'sample-1',
      to_addr: rest.join(':'), from_addr: '+27820001001', content: 'hello',
      transport_name: 'sms_transport', transport_type: 'sms', session_event: null,
      helper_metadata: { tag: { tag: [pool, rest.join(':')] } },
    };
    return event;
  }
  if (on.conversation_key) event.conversation_key = on.conversation_key;
  if (on.conversation_type) event.conversation_type = on.conversation_type;
  if (event.event_type === 'poll_complete') event.event_data = { from_addr: '+27820001001', answers: { name: 'Ann' } };
  return event;
}

export async function flowView(main, app, editIndex) {
  const account = app.account;
  const key = app.key;
  if (account.source === 'file') {
    clear(main, h('h2', {}, 'New event handler'),
      h('p', { class: 'notice warn' }, 'This account is defined in the config file and is read-only here.'));
    return;
  }
  const editing = editIndex !== null && editIndex !== undefined;
  const existing = editing ? (account.routes || [])[editIndex] : null;
  if (editing && !existing) throw new Error(`account ${key} has no route ${editIndex + 1}`);
  const routeIndex = editing ? editIndex : (account.routes || []).length;
  const conversations = Object.entries(account.conversations || {});
  const tags = account.tags || [];

  // Event types: declared in routes and seen in the run history.
  const declared = new Set((account.routes || []).map((r) => r.on?.event_type).filter(Boolean));
  const seen = new Set();
  try {
    const runs = (await app.api.get(`${accountPath(key, 'runs')}?limit=1000`)).body.runs;
    for (const run of runs) if (run.event_type) seen.add(run.event_type);
  } catch { /* the history is optional here */ }

  let sample = null;         // the sample event (object)
  let lastReport = null;     // the last dry run, for step outputs

  // ---- (2) event source and type ----
  const on = existing?.on || {};
  const initialSource = on.conversation_type === 'transport' || (on.event_type === 'inbound_message' && !on.conversation_type)
    ? 'tag' : on.conversation_key || on.conversation_type ? 'conversation' : conversations.length ? 'conversation' : 'any';
  const sourceRadios = ['conversation', 'tag', 'any'].map((value) => {
    const input = h('input', { type: 'radio', name: 'source', value, id: `source-${value}`, checked: value === initialSource });
    const text = { conversation: 'A conversation of this account', tag: 'A tag (inbound messages)', any: 'Any conversation' }[value];
    return h('div', { class: 'radio' }, input, h('label', { for: `source-${value}` }, text));
  });
  const conversationSelect = h('select', { id: 'conversation' },
    conversations.map(([k, t]) => h('option', { value: k, selected: on.conversation_key === k }, `${k} (${t})`)));
  const tagSelect = h('select', { id: 'tag' }, h('option', { value: '' }, 'Any of the account\'s tags'),
    tags.map((t) => h('option', { value: t, selected: on.conversation_key === t }, t)));
  const eventTypes = [...new Set([...declared, ...seen, ...COMMON_EVENT_TYPES])];
  const eventType = h('input', { type: 'text', id: 'event-type', list: 'event-types', value: on.event_type || '', autocomplete: 'off', spellcheck: 'false' });
  const eventTypeHelp = `Declared in routes: ${[...declared].join(', ') || 'none'}. Seen in the run history: ${[...seen].join(', ') || 'none yet'}. Empty: any event type.`;
  const conversationField = field('Conversation', conversationSelect, { rel: '/on/conversation_key', help: conversations.length ? '' : 'The account declares no conversations.' });
  const tagField = field('Tag', tagSelect, { rel: '/on/conversation_key', help: 'Inbound messages on this tag arrive as inbound_message events.' });
  const sourceSection = h('section', { class: 'card step-section', id: 'step-source', 'aria-labelledby': 'h-source' },
    h('h3', { id: 'h-source' }, '2. Event source and type'),
    h('fieldset', { class: 'radios' }, h('legend', {}, 'Event source'), sourceRadios),
    conversationField, tagField,
    field('Event type', eventType, { rel: '/on/event_type', help: eventTypeHelp }),
    h('datalist', { id: 'event-types' }, eventTypes.map((t) => h('option', { value: t }))));

  const sampleArea = h('textarea', { id: 'sample-event', rows: 8, spellcheck: 'false' });
  const sampleStatus = h('p', { class: 'help', id: 'sample-status', 'aria-live': 'polite' });
  const sampleButton = h('button', { type: 'button', id: 'load-sample' }, 'Load the newest event of this type');
  sourceSection.append(h('div', { class: 'sample' },
    field('Sample event (JSON, editable)', sampleArea, { help: 'Its fields are offered as {{/event/…}} templates, and the test runs on it.' }),
    sampleStatus, sampleButton));

  function currentOn() {
    const source = sourceSection.querySelector('input[name=source]:checked')?.value || 'any';
    const out = {};
    if (source === 'conversation' && conversationSelect.value) {
      out.conversation_type = account.conversations[conversationSelect.value];
      out.conversation_key = conversationSelect.value;
    } else if (source === 'tag') {
      out.conversation_type = 'transport';
      if (tagSelect.value) out.conversation_key = tagSelect.value;
    }
    if (eventType.value.trim()) out.event_type = eventType.value.trim();
    return out;
  }

  function showSource() {
    const source = sourceSection.querySelector('input[name=source]:checked')?.value;
    conversationField.hidden = source !== 'conversation';
    tagField.hidden = source !== 'tag';
    if (source === 'tag' && !eventType.value) eventType.value = 'inbound_message';
  }

  async function loadSample() {
    const o = currentOn();
    const type = o.event_type || (o.conversation_type === 'transport' ? 'inbound_message' : '');
    sample = null;
    if (type) {
      const query = new URLSearchParams({ event_type: type });
      if (o.conversation_key) query.set('conversation_key', o.conversation_key);
      try {
        const { body } = await app.api.get(`${accountPath(key, 'sample-event')}?${query}`);
        sample = body.event;
        sampleStatus.textContent = `The newest ${type} event in the run history (${body.time}, id ${body.event_id}).`;
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 404) sampleStatus.textContent = app.errorText(e);
      }
    }
    if (!sample) {
      sample = exampleEvent(key, o);
      sampleStatus.textContent = `No ${type || 'such'} event in the run history yet: an example to edit.`;
    }
    sampleArea.value = pretty(sample);
    sampleArea.scrollTop = 0;
    refreshPickers();
  }
  sampleArea.addEventListener('input', () => {
    try {
      sample = JSON.parse(sampleArea.value);
      refreshPickers();
    } catch { /* still being typed */ }
  });
  sampleButton.addEventListener('click', loadSample);
  sourceSection.addEventListener('change', (event) => {
    showSource();
    if (event.target !== sampleArea) loadSample();
  });

  // ---- (3)-(5) steps ----
  const stepsList = h('ol', { class: 'steps', id: 'steps' });
  const typeNames = Object.keys(app.types).sort();
  let cardCount = 0;

  function stepCard(step = {}) {
    cardCount += 1;
    const n = cardCount;
    const initialType = step.handler ? app.handlerType(step.handler) : '';
    // The loaded plugins' handler types, each with its description, as radio buttons.
    const typeGroup = h('fieldset', { class: 'types', dataset: { rel: '/handler' } },
      h('legend', {}, 'Handler type', h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
      typeNames.map((t) => {
        const id = uid('type');
        return h('div', { class: 'radio type-option' },
          h('input', { type: 'radio', name: `type-${n}`, id, value: t, checked: t === initialType }),
          h('label', { for: id }, h('strong', {}, t), h('span', { class: 'type-description' }, app.types[t].description)));
      }),
      h('p', { class: 'field-error', hidden: true }));
    const typeSelect = { get value() { return typeGroup.querySelector('input:checked')?.value || ''; } };
    const typeHelp = h('div', { class: 'type-help' });
    const instanceSelect = h('select', { class: 'handler-instance' });
    const newName = h('input', { type: 'text', class: 'new-name', autocomplete: 'off', spellcheck: 'false' });
    const asInput = h('input', { type: 'text', class: 'as-name', value: step.as || '', autocomplete: 'off', spellcheck: 'false' });
    const optionsBox = h('div', { class: 'options' });
    const configBox = h('div', { class: 'config' });
    const heading = h('h4', {});
    const li = h('li', { class: 'card step', dataset: { card: n } });
    let options = { read: () => ({}) };
    let config = { read: () => ({}) };

    function renderType(keepConfig) {
      const type = app.types[typeSelect.value];
      clear(typeHelp, type ? h('p', { class: 'help' }, `Output of ${type.name}: `, type.output || 'none declared')
        : h('p', { class: 'help' }, 'Choose what this step does: the handler types of the loaded plugins.'));
      const instances = type ? app.instancesOf(type.name) : [];
      clear(instanceSelect,
        instances.map((i) => h('option', { value: i.name, selected: i.name === step.handler }, `${i.name} (${i.scope})`)),
        type ? h('option', { value: '', selected: !instances.length }, `A new ${type.name} handler…`) : null);
      if (type && !newName.value) {
        let candidate = type.name;
        for (let i = 2; account.handlers?.[candidate] || app.globalHandlers[candidate]; i += 1) candidate = `${type.name}_${i}`;
        newName.value = candidate;
      }
      const previous = keepConfig ? config.read() : step.config || {};
      config = type ? objectFields(type.step_schema || {}, previous || {}, '/config') : { el: h('p'), read: () => ({}) };
      clear(configBox, type ? h('fieldset', { class: 'nested' }, h('legend', {}, 'Step config'), config.el) : null);
      renderInstance();
      refreshPickers();
    }

    function renderInstance() {
      const type = app.types[typeSelect.value];
      const creating = type && instanceSelect.value === '';
      newNameField.hidden = !creating;
      if (creating) {
        options = objectFields(type.options_schema || {}, {}, '/options');
        clear(optionsBox, h('fieldset', { class: 'nested' }, h('legend', {}, `Options of the new handler`), options.el));
      } else {
        options = { read: () => ({}) };
        clear(optionsBox, type ? h('p', { class: 'help' }, 'Options belong to the handler; this step uses it as it is.') : null);
      }
    }

    const newNameField = field('Name of the new handler', newName, { rel: '/name', help: 'Other routes of the account can use it by this name.' });
    typeGroup.addEventListener('change', () => renderType(false));
    instanceSelect.addEventListener('change', () => { renderInstance(); refreshPickers(); });
    const up = h('button', { type: 'button', class: 'small', onclick: () => { if (li.previousElementSibling) li.previousElementSibling.before(li); renumber(); li.querySelector('.move-up').focus(); } }, 'Move up');
    up.classList.add('move-up');
    const down = h('button', { type: 'button', class: 'small move-down', onclick: () => { if (li.nextElementSibling) li.nextElementSibling.after(li); renumber(); down.focus(); } }, 'Move down');
    const remove = h('button', { type: 'button', class: 'small danger', onclick: () => { li.remove(); renumber(); addButton.focus(); } }, 'Remove step');
    li.append(heading,
      typeGroup, typeHelp,
      field('Handler', instanceSelect, { help: 'An existing handler of this type, or a new one with its own options.' }),
      newNameField, optionsBox,
      field('Output name (as)', asInput, { rel: '/as', help: 'Later steps read this step\'s output as {{/steps/<name>/…}}; empty: not kept.' }),
      configBox,
      h('div', { class: 'actions' }, up, down, remove));
    li.stepApi = {
      type: () => typeSelect.value,
      as: () => asInput.value.trim(),
      newHandler: () => (typeSelect.value && instanceSelect.value === '' ? { name: newName.value.trim(), type: typeSelect.value, options: options.read() } : null),
      read: () => {
        const out = { handler: instanceSelect.value || newName.value.trim() };
        if (asInput.value.trim()) out.as = asInput.value.trim();
        const c = config.read();
        if (Object.keys(c).length) out.config = c;
        return out;
      },
      setHeading: (i) => {
        heading.textContent = `Step ${i + 1}`;
        for (const b of [up, down, remove]) b.setAttribute('aria-label', `${b.textContent.replace(/ step$/, '')} step ${i + 1}`);
      },
    };
    renderType(false);
    return li;
  }

  function cards() {
    return [...stepsList.querySelectorAll(':scope > li.step')];
  }

  function renumber() {
    cards().forEach((card, i) => card.stepApi.setHeading(i));
    refreshPickers();
  }

  // Templates for each step: the sample event's fields and the outputs earlier steps declare.
  function refreshPickers() {
    const eventPointers = sample ? pointersOf(sample, '/event') : [];
    const list = cards();
    list.forEach((card, i) => {
      const groups = [{ label: 'The event (sample)', pointers: eventPointers }];
      for (let j = 0; j < i; j += 1) {
        const earlier = list[j].stepApi;
        if (!earlier.as()) continue;
        const fields = new Set(declaredOutputs(app.types[earlier.type()]?.output));
        const output = lastReport?.steps?.[j]?.output;
        if (output && typeof output === 'object') for (const k of Object.keys(output)) fields.add(k);
        groups.push({ label: `Step ${j + 1} output (${earlier.as()})`, pointers: [...fields].map((f) => `/steps/${earlier.as()}/${f}`) });
      }
      groups.push({ label: 'The account', pointers: ['/account/key', '/account/conversations', '/account/tags'] });
      for (const select of card.querySelectorAll('select.picker')) populatePicker(select, groups);
    });
  }

  const addButton = h('button', { type: 'button', id: 'add-step' }, 'Add a step');
  addButton.addEventListener('click', () => {
    const card = stepCard();
    stepsList.append(card);
    renumber();
    card.querySelector('.types input').focus();
  });
  stepsList.addEventListener('input', (event) => { if (event.target.classList.contains('as-name')) refreshPickers(); });
  // A row added to a key/value field brings a template picker that needs its options.
  stepsList.addEventListener('click', (event) => { if (event.target.matches('button')) refreshPickers(); });
  const stepsSection = h('section', { class: 'card step-section', id: 'step-steps', 'aria-labelledby': 'h-steps' },
    h('h3', { id: 'h-steps' }, '3–5. Steps: handler type, options and config'),
    h('p', { class: 'help' }, 'Each step runs in turn; a step that fails stops the chain (a dead letter).'),
    h('p', { class: 'field-error', hidden: true, dataset: { rel: '/chain' } }),
    stepsList, addButton);

  // ---- draft document ----
  function draft() {
    const doc = app.document();
    doc.handlers = { ...(doc.handlers || {}) };
    const chain = [];
    for (const card of cards()) {
      const created = card.stepApi.newHandler();
      if (created && created.name) doc.handlers[created.name] = { type: created.type, ...(Object.keys(created.options).length ? { options: created.options } : {}) };
      chain.push(card.stepApi.read());
    }
    if (!Object.keys(doc.handlers).length) delete doc.handlers;
    const routeDoc = { on: currentOn(), chain };
    if (existing?.retry) routeDoc.retry = existing.retry;
    if (!enabledBox.checked) routeDoc.enabled = false;
    doc.routes = [...(doc.routes || [])].map((r) => { const c = { ...r }; delete c.index; return c; });
    if (editing) doc.routes[routeIndex] = routeDoc;
    else doc.routes.push(routeDoc);
    return doc;
  }

  // Puts each error beside the field its path names; the rest in the summary.
  function showErrors(errors, summary, prefix = '') {
    clearFieldErrors(form);
    const unplaced = [];
    for (const e of errors) {
      let path = e.path.startsWith(prefix) ? e.path.slice(prefix.length) : e.path;
      const missing = e.message.match(/^missing required key "([^"]+)"/);
      if (missing) path = `${path}/${missing[1]}`;
      const wrapper = locate(path);
      if (wrapper) showFieldError(wrapper, e.message);
      else unplaced.push(e);
    }
    clear(summary, errors.length ? h('div', { class: 'notice error', role: 'alert' },
      h('p', {}, `${errors.length} problem${errors.length > 1 ? 's' : ''} to fix${unplaced.length < errors.length ? ' (shown beside their fields)' : ''}:`),
      h('ul', {}, errors.map((e) => h('li', {}, h('code', {}, e.path || '/'), ' ', e.message)))) : null);
    const first = form.querySelector('[aria-invalid=true]');
    if (first) first.focus();
  }

  // The field wrapper a document path names, or the nearest enclosing one.
  function locate(path) {
    const list = cards();
    let scope = null;
    let rel = '';
    let m = path.match(new RegExp(`^/routes/${routeIndex}/chain/(\\d+)(/.*)?$`));
    if (m && list[Number(m[1])]) {
      scope = list[Number(m[1])];
      rel = m[2] || '';
    } else if ((m = path.match(/^\/handlers\/([^/]+)(\/.*)?$/))) {
      const name = m[1].replace(/~1/g, '/').replace(/~0/g, '~');
      scope = list.find((c) => c.stepApi.newHandler()?.name === name) || null;
      rel = m[2] ? m[2] : '/name';
    } else if ((m = path.match(new RegExp(`^/routes/${routeIndex}(/.*)?$`)))) {
      rel = m[1] || '';
      if (rel.startsWith('/on')) scope = sourceSection;
      else if (rel === '/chain' || rel === '') return stepsSection;
    }
    if (!scope) return null;
    for (let r = rel; r; r = r.slice(0, r.lastIndexOf('/'))) {
      const found = scope.querySelector(`[data-rel="${CSS.escape(r)}"]`);
      if (found) return found;
    }
    return null;
  }

  // ---- (6) test ----
  const testResult = h('div', { id: 'test-result', 'aria-live': 'polite' });
  const testButton = h('button', { type: 'button', id: 'run-test' }, 'Run the test');
  testButton.addEventListener('click', async () => {
    clear(testResult, h('p', {}, 'Running…'));
    let event;
    try {
      event = JSON.parse(sampleArea.value);
    } catch (e) {
      clear(testResult, h('p', { class: 'notice error' }, `The sample event is not JSON: ${e.message}`));
      return;
    }
    try {
      const { body } = await app.api.post(accountPath(key, 'routes', 'test'), { account: draft(), event });
      clearFieldErrors(form);
      clear(saveSummary);
      renderReport(body);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        clear(testResult);
        showErrors(e.errors, testResult, '/account');
      } else {
        clear(testResult, h('p', { class: 'notice error' }, app.errorText(e)));
      }
    }
  });

  function renderReport(report) {
    const ours = `accounts.${key}.routes[${routeIndex}]`;
    const mine = (report.routes || []).find((r) => r.route === ours);
    lastReport = mine || null;
    refreshPickers();
    const routes = report.routes || [];
    clear(testResult,
      routes.length ? null : h('p', { class: 'notice warn' }, 'No route matched this event: check the event source and type.'),
      routes.map((r) => h('div', { class: `report${r.route === ours ? ' ours' : ''}` },
        h('h4', {}, r.route === ours ? 'This event handler' : `Also matched: ${r.route}`, ' — ', r.ok ? 'ok' : 'failed'),
        h('ol', { class: 'report-steps' }, (r.steps || []).map((s) => h('li', { class: `result-${s.result}` },
          h('p', {}, h('strong', {}, s.handler), ` ${s.result}`, typeof s.duration_ms === 'number' ? ` in ${s.duration_ms.toFixed(2)} ms` : ''),
          s.error ? h('p', { class: 'field-error' }, s.error) : null,
          h('details', { open: true }, h('summary', {}, 'Rendered config'), h('pre', {}, pretty(s.config))),
          s.output !== undefined ? h('details', { open: true }, h('summary', {}, 'Output'), h('pre', {}, pretty(s.output))) : null))))),
      effectsList(report.effects || {}));
  }

  function effectsList(effects) {
    const items = [];
    for (const m of effects.published || []) {
      const b = m.body || m;
      items.push(h('li', {}, `Would publish on ${m.topic || 'outbound'}`, b.to_addr ? `: SMS to ${b.to_addr} "${b.content}"` : ''));
    }
    for (const c of effects.contacts_upserted || []) items.push(h('li', {}, `Would store contact ${c.msisdn || pretty(c)}`));
    for (const e of effects.emitted || []) items.push(h('li', {}, `Would emit ${e.event_type || 'an event'}`));
    for (const d of effects.dead_letters || []) items.push(h('li', {}, `Would make a dead letter: ${d.reason || ''} ${d.message || ''}`));
    for (const i of effects.inbox || []) items.push(h('li', {}, `Would keep in the inbox: ${i.content || pretty(i)}`));
    return h('div', { class: 'effects' }, h('h4', {}, 'What would happen'), items.length ? h('ul', {}, items) : h('p', {}, 'Nothing.'));
  }

  const testSection = h('section', { class: 'card step-section', id: 'step-test', 'aria-labelledby': 'h-test' },
    h('h3', { id: 'h-test' }, '6. Test with the sample event'),
    h('p', { class: 'help' }, 'A dry run of this draft with the real handlers: nothing is stored or sent.'),
    testButton, testResult);

  // ---- (7) save ----
  const saveSummary = h('div', { id: 'save-result', 'aria-live': 'polite' });
  const saveButton = h('button', { type: 'submit', class: 'primary', id: 'save' }, editing ? 'Save changes' : 'Save the event handler');
  const enabledBox = h('input', { type: 'checkbox', id: 'route-enabled', checked: existing ? existing.enabled !== false : true });
  const preview = h('p', { class: 'sentence', id: 'sentence-preview' });
  const saveSection = h('section', { class: 'card step-section', id: 'step-save', 'aria-labelledby': 'h-save' },
    h('h3', { id: 'h-save' }, '7. Save'),
    preview,
    h('div', { class: 'checkbox' }, enabledBox, h('label', { for: 'route-enabled' }, 'Enabled (runs on matching events)')),
    saveButton, saveSummary);

  const form = h('form', { class: 'flow', novalidate: true, 'aria-labelledby': 'flow-title' },
    h('section', { class: 'card step-section', id: 'step-chain', 'aria-labelledby': 'h-chain' },
      h('h3', { id: 'h-chain' }, '1. Event handler'),
      h('p', {}, editing
        ? `Editing route ${routeIndex + 1} of ${key} (version ${account.version}).`
        : `A new chain of steps for ${key}: when the event you choose arrives, each step runs in turn.`)),
    sourceSection, stepsSection, testSection, saveSection);
  form.addEventListener('input', () => { preview.textContent = sentence({ on: currentOn(), chain: cards().map((c) => c.stepApi.read()) }, (n) => cards().find((c) => c.stepApi.read().handler === n)?.stepApi.type() || app.handlerType(n)); });
  form.addEventListener('change', () => form.dispatchEvent(new Event('input')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(saveSummary, h('p', {}, 'Saving…'));
    try {
      const { body, etag } = await app.api.put(accountPath(key), draft(), app.etag);
      app.account = body;
      app.etag = etag;
      clearFieldErrors(form);
      app.notify(`Saved: version ${body.version}. ${sentence(body.routes[routeIndex], (n) => app.handlerType(n))}.`);
      app.keepNotice = true;
      location.hash = `#/a/${encodeURIComponent(key)}`;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 422 || e.status === 409)) {
        showErrors(e.errors, saveSummary);
      } else if (e instanceof ApiError && e.status === 412) {
        clear(saveSummary, h('p', { class: 'notice error', role: 'alert' }, `${e.message}. Someone else changed the account: open it again to see their change.`));
      } else {
        clear(saveSummary, h('p', { class: 'notice error', role: 'alert' }, app.errorText(e)));
      }
    }
  });

  for (const s of existing?.chain || [{}]) stepsList.append(stepCard(s));
  clear(main,
    h('h2', { id: 'flow-title' }, editing ? `Edit event handler ${routeIndex + 1}` : 'New event handler'),
    h('ol', { class: 'progress', 'aria-label': 'Steps of this form' },
      [['step-chain', 'Event handler'], ['step-source', 'Source and type'], ['step-steps', 'Steps'], ['step-test', 'Test'], ['step-save', 'Save']]
        .map(([id, text]) => h('li', {}, h('a', { href: `#${id}`, onclick: (e) => { e.preventDefault(); document.getElementById(id).scrollIntoView(); document.getElementById(id).querySelector('h3').focus(); } }, text)))),
    form);
  for (const h3 of form.querySelectorAll('h3')) h3.tabIndex = -1;
  showSource();
  renumber();
  await loadSample();
  form.dispatchEvent(new Event('input'));
}

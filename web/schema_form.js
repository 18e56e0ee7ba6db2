// Form controls generated from a plugin's JSON schema (options or step config): types, required
// fields, enums as selects, minimum/maximum, descriptions as help text, and a template picker beside
// every text field. Each field's wrapper carries data-rel, its JSON pointer below the form's root,
// so a server error's path finds it.

import { h, field, uid } from './dom.js';

function typesOf(schema) {
  const t = schema.type;
  return Array.isArray(t) ? t : t ? [t] : [];
}

function mainType(schema) {
  const types = typesOf(schema).filter((t) => t !== 'null');
  if (schema.enum) return 'enum';
  if (types.length === 1) return types[0];
  if (schema.properties) return 'object';
  return 'json';
}

function escapeToken(token) {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

// A select that inserts "{{pointer}}" into target at its cursor; options come from populatePicker.
function picker(target, labelText) {
  const select = h('select', { class: 'picker', 'aria-label': `Insert a template into ${labelText}` },
    h('option', { value: '' }, 'Insert a template…'));
  select.addEventListener('change', () => {
    if (!select.value) return;
    const text = `{{${select.value}}}`;
    const start = target.selectionStart ?? target.value.length;
    const end = target.selectionEnd ?? target.value.length;
    target.value = target.value.slice(0, start) + text + target.value.slice(end);
    target.dispatchEvent(new Event('input', { bubbles: true }));
    select.value = '';
    target.focus();
  });
  return select;
}

// groups: [{label, pointers: ["/event/...", ...]}]; keeps nothing selected.
export function populatePicker(select, groups) {
  select.replaceChildren(h('option', { value: '' }, groups.length ? 'Insert a template…' : 'No templates yet (pick a sample event)'));
  for (const group of groups) {
    if (!group.pointers.length) continue;
    select.append(h('optgroup', { label: group.label }, group.pointers.map((p) => h('option', { value: p }, p))));
  }
}

// Every pointer into value below prefix ("/event"), objects and leaves, breadth-limited.
export function pointersOf(value, prefix, out = [], depth = 0) {
  if (depth > 6 || out.length > 200) return out;
  if (value && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    for (const [k, v] of entries) {
      const p = `${prefix}/${escapeToken(k)}`;
      out.push(p);
      pointersOf(v, p, out, depth + 1);
    }
  }
  return out;
}

function textInput(schema, value, labelText) {
  const input = h('input', { type: 'text', value: value ?? '', autocomplete: 'off', spellcheck: 'false' });
  if (schema.minLength !== undefined) input.minLength = schema.minLength;
  if (schema.maxLength !== undefined) input.maxLength = schema.maxLength;
  if (schema.default !== undefined) input.placeholder = `default: ${JSON.stringify(schema.default)}`;
  const pick = picker(input, labelText);
  return { input, pick };
}

// One property: {el, read()}; read() returns undefined for "leave it out".
export function schemaField(name, schema, value, rel, required) {
  const kind = mainType(schema);
  const help = [schema.description, schema.minimum !== undefined ? `minimum ${schema.minimum}` : '',
    schema.maximum !== undefined ? `maximum ${schema.maximum}` : ''].filter(Boolean).join(' · ');
  const nullable = typesOf(schema).includes('null');

  if (kind === 'object' && schema.properties) {
    const inner = objectFields(schema, value || {}, rel);
    const el = h('fieldset', { class: 'nested', dataset: { rel } },
      h('legend', {}, name, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      schema.description ? h('p', { class: 'help' }, schema.description) : null,
      h('p', { class: 'field-error', hidden: true }),
      inner.el);
    return {
      el,
      read: () => {
        const v = inner.read();
        return Object.keys(v).length || required ? v : undefined;
      },
    };
  }

  if (kind === 'object') {  // free-form map: key/value rows
    return keyValueField(name, schema, value || {}, rel, required, help);
  }

  if (kind === 'enum') {
    const select = h('select', {},
      required ? null : h('option', { value: '' }, schema.default !== undefined ? `(default: ${schema.default})` : '(not set)'),
      schema.enum.map((option) => h('option', { value: JSON.stringify(option), selected: JSON.stringify(value) === JSON.stringify(option) }, String(option))));
    return {
      el: field(name, select, { help, required, rel }),
      read: () => (select.value === '' ? undefined : JSON.parse(select.value)),
    };
  }

  if (kind === 'boolean') {
    const select = h('select', {}, h('option', { value: '' }, schema.default !== undefined ? `(default: ${schema.default})` : '(not set)'),
      h('option', { value: 'true', selected: value === true }, 'yes'),
      h('option', { value: 'false', selected: value === false }, 'no'));
    return { el: field(name, select, { help, required, rel }), read: () => (select.value === '' ? undefined : select.value === 'true') };
  }

  if (kind === 'integer' || kind === 'number') {
    const input = h('input', { type: 'number', value: value ?? '', step: kind === 'integer' ? '1' : 'any',
      min: schema.minimum ?? null, max: schema.maximum ?? null, inputmode: kind === 'integer' ? 'numeric' : 'decimal' });
    if (schema.default !== undefined) input.placeholder = `default: ${schema.default}`;
    return {
      el: field(name, input, { help, required, rel }),
      read: () => (input.value === '' ? undefined : Number(input.value)),
    };
  }

  if (kind === 'string') {
    const { input, pick } = textInput(schema, typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value), name);
    const el = field(name, input, { help: help + (nullable ? (help ? ' · ' : '') + 'empty: left out' : ''), required, rel });
    el.querySelector('input').after(pick);
    return { el, read: () => (input.value === '' ? undefined : input.value) };
  }

  // Anything else (arrays, mixed types): JSON text.
  const area = h('textarea', { rows: 3, spellcheck: 'false' }, value === undefined ? '' : JSON.stringify(value, null, 1));
  return {
    el: field(`${name} (JSON)`, area, { help, required, rel }),
    read: () => {
      if (area.value.trim() === '') return undefined;
      try {
        return JSON.parse(area.value);
      } catch {
        return area.value;  // the server names what is wrong with it
      }
    },
  };
}

function keyValueField(name, schema, value, rel, required, help) {
  const rows = h('div', { class: 'kv', role: 'group' });
  const valueSchema = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
  const addRow = (k = '', v = '') => {
    const keyInput = h('input', { type: 'text', value: k, 'aria-label': `${name}: name`, autocomplete: 'off' });
    const valueInput = h('input', { type: 'text', value: typeof v === 'string' ? v : JSON.stringify(v), 'aria-label': `${name}: value`, autocomplete: 'off' });
    const row = h('div', { class: 'kv-row' }, keyInput, valueInput, picker(valueInput, `${name} value`),
      h('button', { type: 'button', class: 'small', onclick: () => row.remove() }, 'Remove'));
    rows.append(row);
  };
  for (const [k, v] of Object.entries(value)) addRow(k, v);
  const id = uid();
  rows.id = id;
  const el = h('div', { class: 'field', dataset: { rel } },
    h('span', { class: 'label', id: `${id}-label` }, name, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    rows,
    h('button', { type: 'button', class: 'small', onclick: () => addRow() }, `Add to ${name}`),
    help ? h('p', { class: 'help' }, help) : null,
    h('p', { class: 'field-error', hidden: true }));
  rows.setAttribute('aria-labelledby', `${id}-label`);
  return {
    el,
    read: () => {
      const out = {};
      for (const row of rows.querySelectorAll('.kv-row')) {
        const [k, v] = row.querySelectorAll('input');
        if (!k.value) continue;
        let parsed = v.value;
        if (valueSchema.type && valueSchema.type !== 'string') {
          try { parsed = JSON.parse(v.value); } catch { /* sent as text; the server names it */ }
        }
        out[k.value] = parsed;
      }
      return Object.keys(out).length || required ? out : undefined;
    },
  };
}

// The properties of an object schema: {el, read()}.
export function objectFields(schema, value, rel) {
  const required = new Set(schema.properties ? schema.required || [] : []);
  const parts = [];
  for (const [name, prop] of Object.entries(schema.properties || {})) {
    parts.push([name, schemaField(name, prop, value[name], `${rel}/${escapeToken(name)}`, required.has(name))]);
  }
  const el = h('div', { class: 'fields' }, parts.map(([, p]) => p.el));
  if (!parts.length) el.append(h('p', { class: 'help' }, 'Nothing to configure.'));
  return {
    el,
    read: () => {
      const out = {};
      for (const [name, p] of parts) {
        const v = p.read();
        if (v !== undefined) out[name] = v;
      }
      return out;
    },
  };
}

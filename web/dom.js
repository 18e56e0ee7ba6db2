// Small DOM helpers: elements from tag, attributes and children; unique ids for labels.

let counter = 0;

// A fresh id ("f12") for tying a label or help text to its control.
export function uid(prefix = 'f') {
  counter += 1;
  return `${prefix}${counter}`;
}

// h('button', {type: 'button', onclick: f}, 'Save'): attributes starting with "on" are listeners;
// "dataset" is an object; false and null attributes are left out; strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value;
    else if (name === 'checked') el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled control: <div class="field"><label>text</label>control<p help></p><p error></p></div>.
// The control gets an id, aria-describedby pointing at help and error.
export function field(labelText, control, { help = '', required = false, rel = '' } = {}) {
  control.id = control.id || uid();
  const helpId = uid('help');
  const errorId = uid('err');
  const label = h('label', { for: control.id }, labelText, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  if (required) control.setAttribute('aria-required', 'true');
  const described = [help ? helpId : null, errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  const wrapper = h('div', { class: 'field', dataset: rel ? { rel } : {} }, label, control,
    help ? h('p', { class: 'help', id: helpId }, help) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }));
  return wrapper;
}

// Shows message under the field wrapper (a .field), marking its control invalid.
export function showFieldError(wrapper, message) {
  const error = wrapper.querySelector(':scope > .field-error');
  const control = wrapper.querySelector(':scope > input, :scope > select, :scope > textarea, :scope > .kv');
  if (error) {
    error.textContent = message;
    error.hidden = false;
  }
  if (control) control.setAttribute('aria-invalid', 'true');
}

export function clearFieldErrors(root) {
  for (const e of root.querySelectorAll('.field-error')) {
    e.textContent = '';
    e.hidden = true;
  }
  for (const c of root.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

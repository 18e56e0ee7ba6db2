// Routes as sentences: "When vxpolls/poll1 fires poll_complete: create a contact, then send an SMS".

const ACTIONS = {
  create_contact: 'create a contact',
  send_sms: 'send an SMS',
  tag_router: 'route it by tag to a conversation',
  default_account_handler: 'keep it in the inbox (the default handler)',
  vumi_command: 'send a command to a Vumi Go worker',
};

// What a handler type does, as a verb phrase.
export function action(type, name) {
  return ACTIONS[type] || `run ${name}${type && type !== name ? ` (${type})` : ''}`;
}

// The source part: who fires the event.
export function source(on = {}) {
  const type = on.conversation_type;
  const key = on.conversation_key;
  if (type === 'transport' || (on.event_type === 'inbound_message' && !type)) {
    return key ? `a message arrives on tag ${key}` : 'a message arrives on any of the account\'s tags';
  }
  let who;
  if (type && key) who = `${type}/${key}`;
  else if (key) who = `conversation ${key}`;
  else if (type) who = `any ${type} conversation`;
  else who = 'any conversation';
  return `${who} fires ${on.event_type || 'any event'}`;
}

// handlerType(name) -> the type of a handler instance by name.
export function sentence(route, handlerType) {
  const on = route.on || {};
  const steps = (route.chain || []).map((step) => action(handlerType(step.handler), step.handler));
  return `When ${source(on)}: ${steps.join(', then ')}`;
}

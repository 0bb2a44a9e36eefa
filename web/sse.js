// A server-sent-events parser for a fetch() body (the WHATWG rules that
// matter here: events end at a blank line, "data:" lines join with "\n",
// lines starting with ":" are comments, CR LF and CR end lines too).

/* Reads `body` to its end, calling onBytes() for every chunk (keep-alive
 * comments included) and onEvent({event, data}) for every event. */
export async function readEvents(body, onBytes, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let event = {event: 'message', data: []};
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    onBytes();
    buf += value;
    /* a lone trailing CR may be the first half of CR LF: keep it */
    const lines = buf.split(/\r\n|\r(?!$)|\n/);
    buf = lines.pop();
    for (const line of lines) event = takeLine(line, event, onEvent);
  }
}

function takeLine(line, event, onEvent) {
  if (line === '') {
    if (event.data.length > 0) onEvent({event: event.event, data: event.data.join('\n')});
    return {event: 'message', data: []};
  }
  if (line.startsWith(':')) return event;
  const colon = line.indexOf(':');
  const field = colon < 0 ? line : line.slice(0, colon);
  let val = colon < 0 ? '' : line.slice(colon + 1);
  if (val.startsWith(' ')) val = val.slice(1);
  if (field === 'event') event.event = val;
  else if (field === 'data') event.data.push(val);
  return event;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SSEParser } from '../../dist/esm/sse-parser.js';

function parse(chunks) {
  const events = [];
  const comments = [];
  const p = new SSEParser((e) => events.push(e));
  p.onComment = (c) => comments.push(c);
  for (const c of chunks) p.push(c);
  return { events, comments };
}

test('SSEParser handles the event-stream format', () => {
  const cases = [
    {
      name: 'one event',
      chunks: ['id: 1\nevent: order\ndata: {"a":1}\n\n'],
      want: [{ id: '1', event: 'order', data: '{"a":1}' }],
    },
    {
      name: 'default event type',
      chunks: ['data: x\n\n'],
      want: [{ event: 'message', data: 'x' }],
    },
    {
      name: 'split anywhere',
      chunks: ['id: 4', '2\neve', 'nt: a\nda', 'ta: he', 'llo\n', '\n'],
      want: [{ id: '42', event: 'a', data: 'hello' }],
    },
    {
      name: 'CRLF split between chunks',
      chunks: ['data: a\r', '\ndata: b\r\n\r', '\n'],
      want: [{ event: 'message', data: 'a\nb' }],
    },
    {
      name: 'bare CR line ends',
      chunks: ['data: a\r\r'],
      want: [{ event: 'message', data: 'a' }],
    },
    {
      name: 'no space after colon and field without value',
      chunks: ['data:x\ndata\n\n'],
      want: [{ event: 'message', data: 'x\n' }],
    },
    {
      name: 'event without data is not dispatched',
      chunks: ['event: ping\n\nid: 5\n\n'],
      want: [],
    },
    {
      name: 'incomplete event waits',
      chunks: ['data: a\n'],
      want: [],
    },
    {
      name: 'two events',
      chunks: ['id: 1\ndata: a\n\nid: 2\ndata: b\n\n'],
      want: [
        { id: '1', event: 'message', data: 'a' },
        { id: '2', event: 'message', data: 'b' },
      ],
    },
  ];
  for (const tc of cases) {
    assert.deepEqual(parse(tc.chunks).events, tc.want, tc.name);
  }
});

test('SSEParser reports comments', () => {
  const { events, comments } = parse([': keep-alive\n\n:x\ndata: y\n\n']);
  assert.deepEqual(comments, ['keep-alive', 'x']);
  assert.deepEqual(events, [{ event: 'message', data: 'y' }]);
});

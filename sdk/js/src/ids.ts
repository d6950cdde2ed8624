/**
 * compareIds orders two message IDs of one channel the way the server does:
 * as plain byte-wise strings (UTF-8 bytes, which is Unicode code point
 * order). It returns a negative number, zero or a positive number.
 *
 * JavaScript's `<` compares UTF-16 code units, which disagrees with byte
 * order only for characters above U+FFFF against U+E000–U+FFFF; IDs are
 * opaque, so the SDK compares code points to be exact either way.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    // A surrogate (a code point above U+FFFF) sorts after any BMP unit.
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}

/** isAfter reports whether id sorts strictly after last (true when there is no last). */
export function isAfter(id: string, last: string | undefined): boolean {
  return last === undefined || compareIds(id, last) > 0;
}

const channelPattern = /^[a-zA-Z0-9\-_:.@=,]{1,128}$/;

/**
 * channelProblem returns a sentence saying what is wrong with a channel
 * name, or undefined when the protocol allows it: 1–128 characters of
 * `a-z A-Z 0-9 - _ : . @ = ,`.
 */
export function channelProblem(channel: unknown): string | undefined {
  if (typeof channel !== 'string') return `channel must be a string, got ${typeof channel}`;
  if (channelPattern.test(channel)) return undefined;
  if (channel.length === 0) return 'channel name is empty; 1 to 128 characters are allowed';
  if (channel.length > 128) return `channel name is ${channel.length} characters; at most 128 are allowed`;
  const bad = [...channel].find((ch) => !/[a-zA-Z0-9\-_:.@=,]/.test(ch));
  return `channel name ${JSON.stringify(channel)} contains ${JSON.stringify(bad)}; only a-z A-Z 0-9 - _ : . @ = , are allowed`;
}

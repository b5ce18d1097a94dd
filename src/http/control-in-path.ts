// The check every request passes before any route looks anything up: a NUL or another control
// character in the path is refused, the same on both databases (PostgreSQL cannot store a NUL;
// SQLite would just not find it).

import { AppError } from '../errors.ts';

// A percent-encoded C0 control or DEL.
const ENCODED_CONTROL = /^%(?:[01][0-9a-f]|7f)$/i;

/** Whether the path (the URL up to any "?") holds a raw or percent-encoded C0 control or DEL. */
export function controlInPath(url: string): boolean {
  // A loop rather than a regex over a sliced path: this runs on every request.
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f) return false;
    if (c < 0x20 || c === 0x7f) return true;
    if (c === 0x25 && ENCODED_CONTROL.test(url.slice(i, i + 3))) return true;
  }
  return false;
}

/** The refusal of a path holding a control character, or undefined when the path is plain. */
export function pathRefusal(url: string): AppError | undefined {
  if (!controlInPath(url)) return undefined;
  return new AppError('bad_request', 'The path contains a NUL byte or another control character.', 'Remove it: names and ids in paths are plain text.');
}

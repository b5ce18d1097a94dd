// Reading an authorized_keys file, or the text of https://github.com/<login>.keys, line by line for
// `keysmith import ssh-keys`. Each line is one key for the strict parser; blank lines and # comments
// are skipped. A refusal names the line and carries the parser's sentence, never the line itself (it
// may be part of a private key pasted by mistake).
import { ACCEPTED_KEY_TYPES, parseSshPublicKey, SshKeyError, type ParsedSshKey, type SshKeyErrorCode } from '../../crypto/ssh-public-key.ts';

export type AuthorizedKeysLine = { kind: 'key'; line: number; parsed: ParsedSshKey } | { kind: 'refused'; line: number; lastLine: number; code: SshKeyErrorCode; message: string };

export interface AuthorizedKeysText {
  lines: AuthorizedKeysLine[];
  blank: number;
  comments: number;
}

const KNOWN_TYPES = new Set<string>([...ACCEPTED_KEY_TYPES, 'ssh-dss']);
// A key type after the first field: options (or a known_hosts host name) come before the key.
const KEY_LATER_ON_LINE = /[ \t](?:ssh|ecdsa|sk)-[^ \t]*[ \t]+AAAA/;
// Blocks a private key spans; refused as one, with the line range, so none of its lines is parsed.
const PRIVATE_BLOCKS: { start: RegExp; end: RegExp }[] = [
  { start: /^-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----/, end: /^-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----/ },
  { start: /^PuTTY-User-Key-File-/, end: /^Private-MAC:/ },
];

export const OPTIONS_NOT_KEPT =
  'This line has authorized_keys options (such as no-pty, from= or command="…") or something else before the key type, and Keysmith does not keep options: importing the key without them would lift their restrictions, so if the key may be used without them, remove them so the line starts with its type, such as ssh-ed25519.';

export function readAuthorizedKeys(text: string): AuthorizedKeysText {
  const all = text.split(/\r?\n/);
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  const lines: AuthorizedKeysLine[] = [];
  let blank = 0;
  let comments = 0;
  for (let i = 0; i < all.length; i++) {
    const number = i + 1;
    const line = all[i]!.replace(/^[ \t]+|[ \t]+$/g, '');
    if (line === '') {
      blank++;
      continue;
    }
    if (line.startsWith('#')) {
      comments++;
      continue;
    }
    let parsed: ParsedSshKey;
    try {
      parsed = parseSshPublicKey(line);
    } catch (err) {
      if (!(err instanceof SshKeyError)) throw err;
      let lastLine = number;
      const block = err.code === 'key_is_private' ? PRIVATE_BLOCKS.find((b) => b.start.test(line)) : undefined;
      if (block) {
        let j = i + 1;
        while (j < all.length && !block.end.test(all[j]!.trim())) j++;
        i = Math.min(j, all.length - 1);
        lastLine = i + 1;
      }
      const first = /^[^ \t]+/.exec(line)![0];
      const hasOptions = err.code === 'key_malformed' && !KNOWN_TYPES.has(first) && KEY_LATER_ON_LINE.test(line);
      lines.push({ kind: 'refused', line: number, lastLine, code: err.code, message: hasOptions ? OPTIONS_NOT_KEPT : err.message });
      continue;
    }
    lines.push({ kind: 'key', line: number, parsed });
  }
  return { lines, blank, comments };
}

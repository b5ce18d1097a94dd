// SSH certificates signed per second (issue 12): our signer (src/crypto/ssh-certificate.ts, in this
// process, no HTTP and no database) against OpenSSH's `ssh-keygen -s` on the same CA key and the same
// subject keys, in the same run, in alternating rounds; medians of the rounds.
//  - ssh-keygen one key per invocation: what a signing service that shells out to ssh-keygen pays,
//    a process start and the CA key's parse included in every certificate;
//  - ssh-keygen many keys in one invocation (it signs every .pub file named after the options, with
//    `-z +<serial>` numbering them): its signing cost with the process start spread out.
// Every certificate is the same shape Keysmith issues a user: one principal, key id, 8 h validity,
// OpenSSH's default user extensions. ssh-keygen -L reads ours, or the comparison means nothing.
// Then (bench/ssh-certificate-login.ts, root only) the login time with a certificate and the online
// check against a plain key.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeOpenSshPrivateKey, sshString } from '../src/crypto/openssh-format.ts';
import { DEFAULT_USER_EXTENSIONS, signSshCertificate } from '../src/crypto/ssh-certificate.ts';
import { parseSshPublicKey, type ParsedSshKey } from '../src/crypto/ssh-public-key.ts';
import { ed25519Line } from '../test/ssh-fixtures.ts';
import { formatNumber, formatTable, median } from './lib.ts';
import { certificateLoginBench } from './ssh-certificate-login.ts';

const ROUNDS = Number(process.env.BENCH_CERT_ROUNDS ?? 5);
/** Certificates per round, for our signer and for ssh-keygen's many-keys invocation. */
const BATCH = Number(process.env.BENCH_CERT_BATCH ?? 1_000);
/** ssh-keygen invocations per round, one key each (a process apiece is slow: fewer of them). */
const SINGLES = Number(process.env.BENCH_CERT_SINGLES ?? 100);
const TTL = 8 * 3600;

interface Way {
  name: string;
  note: string;
  certificatesPerRound: number;
  perSecond: number[];
}

/** The CA as ssh-keygen reads it: an unencrypted OpenSSH private key file. */
function writeCaFile(dir: string, privateKey: KeyObject): string {
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const fields = Buffer.concat([sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub]))]);
  const file = path.join(dir, 'ca');
  fs.writeFileSync(file, encodeOpenSshPrivateKey(publicBlob, fields, 'bench ca'), { mode: 0o600 });
  return file;
}

function signOurs(subjects: ParsedSshKey[], ca: KeyObject, firstSerial: number): number {
  const now = Math.floor(Date.now() / 1000);
  const start = process.hrtime.bigint();
  let bytes = 0;
  subjects.forEach((subject, i) => {
    bytes += signSshCertificate(subject, ca, {
      kind: 'user',
      serial: firstSerial + i,
      keyId: 'user:bench',
      principals: ['bench'],
      validAfter: now - 60,
      validBefore: now + TTL,
      extensions: DEFAULT_USER_EXTENSIONS,
    }).certificate.length;
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (bytes < subjects.length * 100) throw new Error('a certificate was shorter than any real one');
  return subjects.length / seconds;
}

const keygenArgs = (caFile: string, serial: string) => ['-q', '-s', caFile, '-I', 'user:bench', '-n', 'bench', '-V', '-1m:+8h', '-z', serial];

function removeCertificates(files: string[]): void {
  for (const file of files) fs.rmSync(file.replace(/\.pub$/, '-cert.pub'), { force: true });
}

function signKeygenMany(files: string[], caFile: string, firstSerial: number): number {
  removeCertificates(files);
  const start = process.hrtime.bigint();
  const result = spawnSync('ssh-keygen', [...keygenArgs(caFile, `+${firstSerial}`), ...files], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`ssh-keygen -s exited ${result.status}: ${result.stderr}`);
  if (!files.every((f) => fs.existsSync(f.replace(/\.pub$/, '-cert.pub')))) throw new Error('ssh-keygen -s did not write every certificate');
  return files.length / seconds;
}

function signKeygenSingles(files: string[], caFile: string, firstSerial: number): number {
  removeCertificates(files);
  const start = process.hrtime.bigint();
  files.forEach((file, i) => {
    const result = spawnSync('ssh-keygen', [...keygenArgs(caFile, String(firstSerial + i)), file], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`ssh-keygen -s exited ${result.status}: ${result.stderr}`);
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return files.length / seconds;
}

export async function sshCertificatesBench() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-cert-bench-'));
  try {
    const { privateKey: ca } = generateKeyPairSync('ed25519');
    const caFile = writeCaFile(dir, ca);
    const lines = Array.from({ length: BATCH }, (_, i) => ed25519Line(`bench-${i}`));
    const subjects = lines.map((line) => parseSshPublicKey(line));
    const files = lines.map((line, i) => {
      const file = path.join(dir, `k${i}.pub`);
      fs.writeFileSync(file, `${line}\n`);
      return file;
    });

    // ssh-keygen reads what we sign, with the same fields it writes itself.
    const sample = signSshCertificate(subjects[0]!, ca, {
      kind: 'user',
      serial: 1,
      keyId: 'user:bench',
      principals: ['bench'],
      validAfter: 0,
      validBefore: 2 ** 40,
      extensions: DEFAULT_USER_EXTENSIONS,
    });
    fs.writeFileSync(path.join(dir, 'ours-cert.pub'), `${sample.certificate}\n`);
    const listed = execFileSync('ssh-keygen', ['-L', '-f', path.join(dir, 'ours-cert.pub')], { encoding: 'utf8' });
    if (!/Key ID: "user:bench"/.test(listed) || !/permit-pty/.test(listed)) throw new Error(`ssh-keygen -L does not read our certificate as expected:\n${listed}`);

    const ways: Way[] = [
      { name: 'Keysmith signer (in-process)', note: 'signSshCertificate, no HTTP or database', certificatesPerRound: BATCH, perSecond: [] },
      { name: 'ssh-keygen -s, many keys per run', note: `one process signs ${BATCH} .pub files`, certificatesPerRound: BATCH, perSecond: [] },
      { name: 'ssh-keygen -s, one key per run', note: 'a process start and CA parse per certificate', certificatesPerRound: SINGLES, perSecond: [] },
    ];
    signOurs(subjects.slice(0, 200), ca, 1); // warm-up: JIT and the signing key's cache
    let serial = 1_000;
    for (let round = 0; round < ROUNDS; round++) {
      ways[0]!.perSecond.push(signOurs(subjects, ca, serial));
      ways[1]!.perSecond.push(signKeygenMany(files, caFile, serial));
      ways[2]!.perSecond.push(signKeygenSingles(files.slice(0, SINGLES), caFile, serial));
      serial += BATCH;
      console.log(`round ${round + 1}/${ROUNDS}: ${ways.map((w) => formatNumber(w.perSecond.at(-1)!)).join(' / ')} certificates/s`);
    }

    const ours = median(ways[0]!.perSecond);
    const rows = ways.map((w) => {
      const m = median(w.perSecond);
      return { ...w, median: m, min: Math.min(...w.perSecond), max: Math.max(...w.perSecond), oursOverThis: ours / m };
    });
    console.log(`\ned25519 user certificates (ed25519 CA), ${ROUNDS} alternating rounds, medians`);
    console.log(
      formatTable(
        ['signer', 'certs/round', 'median certs/s', 'min–max', 'Keysmith ÷ this', 'note'],
        rows.map((r) => [r.name, formatNumber(r.certificatesPerRound), formatNumber(r.median), `${formatNumber(r.min)}–${formatNumber(r.max)}`, `${r.oursOverThis.toFixed(2)}×`, r.note]),
      ),
    );
    console.log('\nlogin time: a certificate with the online check against a plain key');
    const loginTime = await certificateLoginBench();
    if (!loginTime.measured) console.log(`NOT measured: ${loginTime.why}`);
    return {
      subjectKeyType: 'ssh-ed25519',
      caKeyType: 'ssh-ed25519',
      rounds: ROUNDS,
      signers: rows.map((r) => ({
        signer: r.name,
        note: r.note,
        certificatesPerRound: r.certificatesPerRound,
        medianCertificatesPerSecond: r.median,
        roundsCertificatesPerSecond: r.perSecond,
        keysmithOverThis: r.oursOverThis,
      })),
      loginTime,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

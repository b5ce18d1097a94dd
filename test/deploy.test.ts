// The files in deploy/ checked by the tools that will read them: systemd-analyze for the unit, nginx -t
// and caddy validate for the proxy examples, Keysmith's own config loader for the environment file,
// and a real `keysmith serve` started the way the unit starts it.
//
// systemd-analyze is required (missing: skipped loudly, but under CI=true the run fails). nginx and
// caddy are optional extras: missing, their checks are skipped loudly, also under CI=true.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { freshDatabase } from './cli-helpers.ts';
import { databases, freePort } from './harness.ts';
import { startNode, type Node } from './node-processes.ts';

const IN_CI = process.env.CI === 'true';
const ROOT = path.resolve(import.meta.dirname, '..');
const DEPLOY = path.join(ROOT, 'deploy');
const UNIT = fs.readFileSync(path.join(DEPLOY, 'keysmith.service'), 'utf8');
const ENV_EXAMPLE = fs.readFileSync(path.join(DEPLOY, 'keysmith.env.example'), 'utf8');

const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const NGINX = '/usr/sbin/nginx';
const CADDY = '/usr/bin/caddy';

/** Why `binary` cannot be used here, said loudly, or undefined. `required`: under CI=true its absence fails the run. */
function unavailable(binary: string, debianPackage: string, required: boolean): string | undefined {
  if (fs.existsSync(binary)) return undefined;
  const reason = `${binary} is not installed (apt-get install ${debianPackage})`;
  if (required && IN_CI) throw new Error(`deploy tests: ${reason}, and CI=true, so the run fails.`);
  process.stderr.write(`\n*** deploy tests: checks needing ${binary} are SKIPPED, ${reason} ***\n\n`);
  return reason;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: 60_000 }, (err, stdout, stderr) => {
      const status = (err as { code?: unknown } | null)?.code;
      resolve({ code: !err ? 0 : typeof status === 'number' ? status : null, stdout, stderr });
    });
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keysmith-deploy-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `Key=value` settings of one section of a unit file, in order (a key may repeat). */
function unitSettings(unit: string, section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1]!;
    else if (current === section) {
      const eq = line.indexOf('=');
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return out;
}

function setting(section: string, key: string): string | undefined {
  return unitSettings(UNIT, section)
    .filter(([k]) => k === key)
    .at(-1)?.[1];
}

/**
 * The unit as installed names /usr/bin/node and a checkout in /opt/keysmith; systemd-analyze verify
 * refuses a unit whose ExecStart binary does not exist. So the copy checked here names this machine's
 * node (process.execPath) and this checkout instead, and nothing else changes.
 */
function unitForThisMachine(unit: string): string {
  assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/keysmith\/bin\/keysmith\.mjs serve$/m);
  return unit.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `).replaceAll('/opt/keysmith', ROOT);
}

describe('deploy/keysmith.service', () => {
  const skip = unavailable(SYSTEMD_ANALYZE, 'systemd', true);

  test('runs what npm start runs: bin/keysmith.mjs serve, under node', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, 'exec node bin/keysmith.mjs serve');
    assert.equal(setting('Service', 'ExecStart'), '/usr/bin/node /opt/keysmith/bin/keysmith.mjs serve');
    assert.ok(fs.existsSync(path.join(ROOT, 'bin/keysmith.mjs')));
  });

  test('stops with SIGTERM and gives the 10 s drain room before SIGKILL; restarts after a failure', () => {
    assert.equal(setting('Service', 'KillSignal'), 'SIGTERM');
    const timeout = setting('Service', 'TimeoutStopSec');
    assert.match(timeout ?? '', /^\d+$/, 'TimeoutStopSec is a plain number of seconds');
    assert.ok(Number(timeout) >= 15, `TimeoutStopSec=${timeout} leaves no room past Keysmith's 10 s stop`);
    assert.equal(setting('Service', 'Restart'), 'on-failure');
  });

  test('runs as its own user, reads the environment file, and gets the master key as a credential', () => {
    assert.equal(setting('Service', 'User'), 'keysmith');
    assert.equal(setting('Service', 'EnvironmentFile'), '/etc/keysmith/keysmith.env');
    assert.equal(setting('Service', 'LoadCredential'), 'master.key:/etc/keysmith/master.key');
    assert.equal(setting('Service', 'Environment'), 'KEYSMITH_MASTER_KEY_FILE=%d/master.key');
  });

  test('is sandboxed, with only the SQLite data directory writable', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['ReadWritePaths', '/var/lib/keysmith'],
      ['StateDirectory', 'keysmith'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      assert.equal(setting('Service', key), value, `${key}=${value}`);
    }
    assert.equal(setting('Service', 'MemoryDenyWriteExecute'), undefined, "V8's JIT needs writable-executable memory");
  });

  test('systemd-analyze verify finds nothing to say about it', { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'unit-'));
    fs.writeFileSync(path.join(dir, 'keysmith.service'), unitForThisMachine(UNIT));
    const result = await run(SYSTEMD_ANALYZE, ['verify', './keysmith.service'], { cwd: dir, env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout + result.stderr, '', 'no warnings');
  });

  test('systemd-analyze verify does speak up about a mistake (so its silence above means something)', { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'unit-'));
    fs.writeFileSync(path.join(dir, 'keysmith.service'), unitForThisMachine(UNIT).replace('ProtectHome=yes', 'ProtectHomes=yes'));
    const result = await run(SYSTEMD_ANALYZE, ['verify', './keysmith.service'], { cwd: dir });
    assert.match(result.stdout + result.stderr, /Unknown key 'ProtectHomes'/);
  });

  test("systemd-analyze security rates the sandbox's exposure at 2.0 or less", { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'unit-'));
    fs.writeFileSync(path.join(dir, 'keysmith.service'), unitForThisMachine(UNIT));
    const result = await run(SYSTEMD_ANALYZE, ['security', '--offline=yes', '--threshold=20', '--no-pager', './keysmith.service'], { cwd: dir });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  });
});

/** The assignments of an environment file, active or commented out (`#NAME=`), in order. */
function envFileNames(text: string): string[] {
  return [...text.matchAll(/^#?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

/** What systemd's EnvironmentFile= would set from it: the lines not commented out. */
function envFileValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)) values[m[1]!] = m[2]!;
  return values;
}

describe('deploy/keysmith.env.example', () => {
  const configSource = fs.readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
  // KEYSMITH_TOKEN is the `keysmith ssh-certificate` client's (a person's API key), not the server's.
  const clientOnly = new Set(['KEYSMITH_TOKEN']);
  const read = new Set([...configSource.matchAll(/\benv(?:\.|\[['"])(KEYSMITH_[A-Z0-9_]+)/g)].map((m) => m[1]!).filter((name) => !clientOnly.has(name)));

  test('names exactly the variables src/config.ts reads, each once', () => {
    assert.ok(read.size >= 10, `found the variables src/config.ts reads: ${[...read].join(', ')}`);
    const named = envFileNames(ENV_EXAMPLE);
    assert.equal(new Set(named).size, named.length, `a variable is listed twice: ${named.join(', ')}`);
    for (const name of named) assert.ok(read.has(name), `${name} is in deploy/keysmith.env.example, but src/config.ts never reads it`);
    for (const name of read) assert.ok(named.includes(name), `src/config.ts reads ${name}: list it (commented out, with its default) in deploy/keysmith.env.example`);
  });

  test('is accepted by the config loader as it stands, and leaves the master key to the unit', () => {
    const values = envFileValues(ENV_EXAMPLE);
    assert.equal(values.KEYSMITH_MASTER_KEY, undefined);
    assert.equal(values.KEYSMITH_MASTER_KEY_FILE, undefined);
    const config = loadConfig({ ...values, KEYSMITH_MASTER_KEY_FILE: '/run/credentials/keysmith.service/master.key' });
    assert.equal(config.databaseUrl, 'sqlite:/var/lib/keysmith/keysmith.db');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8081);
    assert.equal(config.publicUrl, 'https://keys.example.com');
    assert.deepEqual(config.masterKey, { kind: 'file', path: '/run/credentials/keysmith.service/master.key' });
  });
});

// What systemd would do with the unit, done by hand: its ExecStart in its WorkingDirectory, with the
// environment file's settings and the master key as a file; only the paths that exist on an installed
// machine alone (/var/lib/keysmith, the credentials directory, the port) point into a temporary directory.
for (const kind of databases) {
  test(`the unit's command serves with the example environment, and stops cleanly on SIGTERM [${kind}]`, async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'node-'));
    const keyFile = path.join(dir, 'master.key');
    fs.writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    const database = await freshDatabase(kind, dir);
    const port = await freePort();
    const [command, ...args] = unitForThisMachine(UNIT)
      .match(/^ExecStart=(.+)$/m)![1]!
      .split(' ');
    const child = spawn(command!, args, {
      cwd: dir,
      env: { PATH: process.env.PATH!, ...envFileValues(ENV_EXAMPLE), KEYSMITH_MASTER_KEY_FILE: keyFile, KEYSMITH_DATABASE_URL: database.url, KEYSMITH_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let health: Response | undefined;
      for (let i = 0; i < 300 && child.exitCode === null; i++) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (health?.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(health?.status, 200, `keysmith serve did not answer /healthz: ${output}`);
      assert.deepEqual(await health!.json(), { status: 'ok' });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      assert.doesNotMatch(output, /created a new master key file/, 'the master key came from the file named, not the embedded default');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await database.drop();
    }
  });
}

describe('deploy/nginx.conf', () => {
  const skip = unavailable(NGINX, 'nginx', true);

  /**
   * nginx -t on the example as it would be installed, in /etc/nginx/conf.d/ (the http context): here
   * a minimal main file includes it, and the certificate paths point at a throwaway self-signed pair,
   * since nginx -t loads the certificate.
   */
  async function nginxTest(site: string): Promise<Run> {
    const dir = fs.mkdtempSync(path.join(tmp, 'nginx-'));
    const tls = await run(
      '/usr/bin/openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=keys.example.com', '-keyout', 'tls.key', '-out', 'tls.crt'],
      { cwd: dir },
    );
    assert.equal(tls.code, 0, tls.stderr);
    assert.match(site, /ssl_certificate \/etc\/nginx\/tls\/keys\.example\.com\.crt;/);
    const rewritten = site.replace('/etc/nginx/tls/keys.example.com.crt', path.join(dir, 'tls.crt')).replace('/etc/nginx/tls/keys.example.com.key', path.join(dir, 'tls.key'));
    fs.writeFileSync(path.join(dir, 'keysmith.conf'), rewritten);
    const main = `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n    access_log off;\n    include ${dir}/keysmith.conf;\n}\n`;
    fs.writeFileSync(path.join(dir, 'nginx.conf'), main);
    return run(NGINX, ['-t', '-q', '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { cwd: dir });
  }

  const site = fs.readFileSync(path.join(DEPLOY, 'nginx.conf'), 'utf8');

  test('nginx -t accepts it, without a warning', { skip }, async () => {
    const result = await nginxTest(site);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout + result.stderr, '', 'no warnings');
  });

  test('nginx -t refuses a broken copy (so it really read the file)', { skip }, async () => {
    const result = await nginxTest(site.replace('proxy_pass http://keysmith;', 'proxy_pass http://keysmith'));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /keysmith\.conf/);
  });

  test('balances the two nodes, passes the client address and scheme, and keeps /metrics off the public side', () => {
    assert.match(site, /server 127\.0\.0\.1:8081\b/);
    assert.match(site, /server 127\.0\.0\.1:8082\b/);
    assert.match(site, /proxy_set_header X-Forwarded-For \$remote_addr;/);
    assert.match(site, /proxy_set_header X-Forwarded-Proto \$scheme;/);
    assert.match(site, /location = \/metrics \{\s*return 404;/);
    assert.match(site, /KEYSMITH_TRUST_PROXY=1/);
  });
});

// The nginx example in front of two real nodes on one PostgreSQL database, as deployed except for the
// addresses: it listens on free ports of 127.0.0.1 instead of 80 and 443, the upstreams are the two
// nodes' ports instead of 8081 and 8082, and the certificate is a throwaway one for keys.example.com.
describe('deploy/nginx.conf in front of two nodes', () => {
  const skip = unavailable(NGINX, 'nginx', true) ?? unavailable('/usr/bin/curl', 'curl', true) ?? (databases.includes('postgres') ? undefined : 'PostgreSQL is unreachable (two nodes need it)');

  test('serves over TLS, keeps serving from the other node when one stops, redirects http, and answers 404 to /metrics', { skip }, async (t) => {
    const dir = fs.mkdtempSync(path.join(tmp, 'proxy-'));
    const database = await freshDatabase('postgres', dir);
    t.after(() => database.drop());
    const env = { KEYSMITH_DATABASE_URL: database.url, KEYSMITH_MASTER_KEY: randomBytes(32).toString('base64') };
    const first = await startNode(env, dir);
    const nodes: Node[] = [first, await startNode(env, dir)];
    t.after(() => Promise.all(nodes.map((n) => n.stop())));
    const [https, http] = [await freePort(), await freePort()];

    const tls = await run(
      '/usr/bin/openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=keys.example.com',
        '-addext',
        'subjectAltName=DNS:keys.example.com',
        '-keyout',
        'tls.key',
        '-out',
        'tls.crt',
      ],
      { cwd: dir },
    );
    assert.equal(tls.code, 0, tls.stderr);
    const site = fs.readFileSync(path.join(DEPLOY, 'nginx.conf'), 'utf8');
    const rewrites: [string, string][] = [
      ['server 127.0.0.1:8081 ', `server 127.0.0.1:${new URL(nodes[0]!.url).port} `],
      ['server 127.0.0.1:8082 ', `server 127.0.0.1:${new URL(nodes[1]!.url).port} `],
      ['    listen 80;\n', `    listen 127.0.0.1:${http};\n`],
      ['    listen [::]:80;\n', ''],
      ['    listen 443 ssl http2;\n', `    listen 127.0.0.1:${https} ssl http2;\n`],
      ['    listen [::]:443 ssl http2;\n', ''],
      ['/etc/nginx/tls/keys.example.com.crt', path.join(dir, 'tls.crt')],
      ['/etc/nginx/tls/keys.example.com.key', path.join(dir, 'tls.key')],
    ];
    let local = site;
    for (const [from, to] of rewrites) {
      assert.ok(local.includes(from), `deploy/nginx.conf still has ${JSON.stringify(from)}`);
      local = local.replace(from, to);
    }
    fs.writeFileSync(path.join(dir, 'keysmith.conf'), local);
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `    ${k}_temp_path ${dir}/${k};`).join('\n');
    fs.writeFileSync(
      path.join(dir, 'nginx.conf'),
      `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n    access_log off;\n${temp}\n    include ${dir}/keysmith.conf;\n}\n`,
    );
    const nginx = spawn(NGINX, ['-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let nginxOutput = '';
    nginx.stderr!.on('data', (d: Buffer) => (nginxOutput += d.toString()));
    const nginxExited = new Promise((resolve) => nginx.once('exit', resolve));
    t.after(async () => {
      if (nginx.exitCode === null) nginx.kill('SIGQUIT');
      await nginxExited;
    });

    /** curl as a client of keys.example.com would be, resolved to this nginx. */
    const curl = async (url: string) => {
      const result = await run('/usr/bin/curl', [
        '-s',
        '--cacert',
        path.join(dir, 'tls.crt'),
        '--resolve',
        `keys.example.com:${https}:127.0.0.1`,
        '--resolve',
        `keys.example.com:${http}:127.0.0.1`,
        '-o',
        '-',
        '-w',
        '\n%{http_code} %{redirect_url}',
        url,
      ]);
      const lines = result.stdout.split('\n');
      const [status, location] = lines.at(-1)!.split(' ');
      return { code: result.code, status: Number(status), location, body: lines.slice(0, -1).join('\n') };
    };
    let healthz = await curl(`https://keys.example.com:${https}/healthz`);
    for (let i = 0; i < 50 && healthz.status !== 200 && nginx.exitCode === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      healthz = await curl(`https://keys.example.com:${https}/healthz`);
    }
    assert.equal(healthz.status, 200, `through nginx: ${JSON.stringify(healthz)} ${nginxOutput}`);
    assert.deepEqual(JSON.parse(healthz.body), { status: 'ok' });

    const metrics = await curl(`https://keys.example.com:${https}/metrics`);
    assert.equal(metrics.status, 404);
    assert.match(metrics.body, /nginx/, 'nginx answered, not a node');

    const redirect = await curl(`http://keys.example.com:${http}/healthz`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.location, 'https://keys.example.com/healthz');

    // One node stopped: every request still gets an answer, from the other.
    assert.equal(await first.stop(), 0);
    for (let i = 0; i < 4; i++) {
      const after = await curl(`https://keys.example.com:${https}/healthz`);
      assert.equal(after.status, 200, `request ${i + 1} with one node stopped: ${JSON.stringify(after)}`);
    }
  });
});

describe('deploy/Caddyfile', () => {
  const skip = unavailable(CADDY, 'caddy', true);
  const caddyfile = fs.readFileSync(path.join(DEPLOY, 'Caddyfile'), 'utf8');

  test('caddy validate accepts it, and caddy fmt leaves it as it is', { skip }, async () => {
    // validate starts the health checker for a moment: it may ask 127.0.0.1:8081 and :8082 for /readyz once.
    const env = { ...process.env, HOME: tmp, XDG_DATA_HOME: tmp, XDG_CONFIG_HOME: tmp };
    const validate = await run(CADDY, ['validate', '--adapter', 'caddyfile', '--config', path.join(DEPLOY, 'Caddyfile')], { env });
    assert.equal(validate.code, 0, validate.stderr);
    assert.match(validate.stdout + validate.stderr, /Valid configuration/);
    const fmt = await run(CADDY, ['fmt', path.join(DEPLOY, 'Caddyfile')], { env });
    assert.equal(fmt.code, 0, fmt.stderr);
    assert.equal(fmt.stdout, caddyfile);
  });

  test('caddy validate refuses a broken copy (so it really read the file)', { skip }, async () => {
    const broken = path.join(fs.mkdtempSync(path.join(tmp, 'caddy-')), 'Caddyfile');
    fs.writeFileSync(broken, caddyfile.replace('health_uri /readyz', 'health_urii /readyz'));
    const env = { ...process.env, HOME: tmp, XDG_DATA_HOME: tmp, XDG_CONFIG_HOME: tmp };
    const validate = await run(CADDY, ['validate', '--adapter', 'caddyfile', '--config', broken], { env });
    assert.notEqual(validate.code, 0);
    assert.match(validate.stderr, /health_urii/);
  });

  test('balances the two nodes with health checks on /readyz, and keeps /metrics off the public side', () => {
    assert.match(caddyfile, /reverse_proxy 127\.0\.0\.1:8081 127\.0\.0\.1:8082 \{/);
    assert.match(caddyfile, /health_uri \/readyz/);
    assert.match(caddyfile, /@metrics path \/metrics \/metrics\/\*\n\s*respond @metrics 404/);
    assert.match(caddyfile, /KEYSMITH_TRUST_PROXY=1/);
  });
});

// A table has one owning module: no file under src/modules/<a>/ may import src/modules/<b>/*.repo.ts.
// Other modules reach that data through <b>'s service, or a narrow interface wired in src/services.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const modulesDir = path.resolve(import.meta.dirname, '../src/modules');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Every relative import of a `*.repo.ts` that leaves the importing file's own module. */
export function foreignRepoImports(file: string, source: string): string[] {
  const own = path.relative(modulesDir, file).split(path.sep)[0];
  const found: string[] = [];
  for (const m of source.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith('.') || !/\.repo(\.ts)?$/.test(spec)) continue;
    const target = path.relative(modulesDir, path.resolve(path.dirname(file), spec));
    const targetModule = target.startsWith('..') ? undefined : target.split(path.sep)[0];
    if (targetModule !== own) found.push(`${path.relative(modulesDir, file)} imports ${spec}`);
  }
  return found;
}

test("no module imports another module's repository", () => {
  const files = filesUnder(modulesDir);
  assert.ok(files.length > 20, 'the scan found the modules');
  const offending = files.flatMap((f) => foreignRepoImports(f, fs.readFileSync(f, 'utf8')));
  assert.deepEqual(offending, []);
});

test('no door (dialects, http, cli, app) imports a repository: doors call services', () => {
  const src = path.resolve(modulesDir, '..');
  const doors = [...filesUnder(path.join(src, 'dialects')), ...filesUnder(path.join(src, 'http')), ...filesUnder(path.join(src, 'cli')), path.join(src, 'app.ts'), path.join(src, 'main.ts')];
  const offending = doors.filter((f) => /from\s*['"][^'"]+\.repo(\.ts)?['"]/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(src, f));
  assert.deepEqual(offending, []);
});

test("the scan sees a foreign repository import, and allows the module's own", () => {
  const file = path.join(modulesDir, 'grants', 'grants.service.ts');
  assert.deepEqual(foreignRepoImports(file, "import * as repo from './grants.repo.ts';\nimport type { X } from '../grants/grants.repo.ts';"), []);
  assert.deepEqual(foreignRepoImports(file, "import * as checkoutRepo from '../checkout-keys/checkout-keys.repo.ts';"), ['grants/grants.service.ts imports ../checkout-keys/checkout-keys.repo.ts']);
  assert.deepEqual(foreignRepoImports(file, "import {\n  a,\n  type B,\n} from '../users/users.repo.ts';"), ['grants/grants.service.ts imports ../users/users.repo.ts']);
});

test('each table is written by one module, from its repository; reading modules (ssh-access) write none', () => {
  const writers = new Map<string, Set<string>>();
  const outsideRepos: string[] = [];
  for (const file of filesUnder(modulesDir)) {
    const source = fs.readFileSync(file, 'utf8');
    for (const m of source.matchAll(/\.(?:insertInto|updateTable|deleteFrom)\(\s*['"]([a-z_]+)['"]/g)) {
      const relative = path.relative(modulesDir, file);
      if (!file.endsWith('.repo.ts')) outsideRepos.push(`${relative} writes ${m[1]}`);
      const owners = writers.get(m[1]!) ?? new Set<string>();
      owners.add(relative.split(path.sep)[0]!);
      writers.set(m[1]!, owners);
    }
  }
  assert.ok(writers.size > 10, 'the scan found the writes');
  assert.deepEqual(outsideRepos, [], 'writes happen in repositories only');
  const shared = [...writers].filter(([, owners]) => owners.size > 1).map(([table, owners]) => `${table}: ${[...owners].join(', ')}`);
  assert.deepEqual(shared, [], 'tables written by more than one module');
  assert.equal(writers.get('ssh_keys')?.has('ssh-keys'), true, "ssh-keys owns ssh_keys, including last_used_at (the lookups' uses go through its service)");
  assert.ok(![...writers.values()].some((owners) => owners.has('ssh-access')), 'ssh-access only reads');
  for (const table of ['ssh_ca_keys', 'ssh_certificates']) assert.deepEqual([...(writers.get(table) ?? [])], ['ssh-ca'], `ssh-ca owns ${table}`);
});

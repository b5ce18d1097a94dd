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

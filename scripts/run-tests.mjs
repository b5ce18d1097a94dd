// npm test: runs the lint (ESLint and Prettier's check), builds the console (the browser tests run
// against what `npm start` would serve), then runs every test/**/*.test.ts through node's test runner
// (tsx for TypeScript). With file arguments it runs only those files, without the lint.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : find(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const only = process.argv.slice(2);

if (only.length === 0) {
  const lint = spawnSync('npm', ['run', '--silent', 'lint'], { stdio: 'inherit' });
  if (lint.status !== 0) {
    console.error('npm test: the lint failed (see above; `npm run format` fixes layout, `npx eslint --fix .` what ESLint can), so the tests did not run.');
    process.exit(lint.status ?? 1);
  }
}

const build = spawnSync('npm', ['run', '--silent', 'build:web'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('npm test: building the console failed (see above), so the tests did not run.');
  process.exit(build.status ?? 1);
}

const files = only.length > 0 ? only : find('test').sort();
// A file's process exits once its tests are done even if something (a stray timer, a browser that
// would not quit) still holds its event loop, and no file may run for more than 20 minutes (the
// slowest, the security matrix, takes about 6): a hang fails that file by name instead of stalling the whole run.
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=1200000', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

// The console in a real browser: proving possession of an SSH key. The Verify dialog shows the
// command, which is run here literally by sh with OpenSSH's ssh-keygen; a wrong signature gets the
// server's sentence; the right one marks the key with a Verified badge, as the API says.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { seed } from '../factories.ts';
import { appFor, bearer, forEachDatabase } from '../harness.ts';
import { keygen, keygenSign, needSshKeygen, tempDir } from '../sshsig-helpers.ts';
import { openConsole, signIn } from './browser.ts';

const needsSshKeygen = needSshKeygen('the console proof-of-possession tests');

forEachDatabase('console: verify an SSH key', (kind) => {
  test('Verify shows the command; a wrong signature gets the sentence; the right one shows the Verified badge', needsSshKeygen, async (t) => {
    const app = await appFor(t, kind, { listen: true });
    const alice = await seed(app);
    const home = tempDir('keysmith-console-home-');
    t.after(() => fs.rmSync(home, { recursive: true, force: true }));
    fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
    const key = keygen(path.join(home, '.ssh'), 'id_ed25519', ['-t', 'ed25519']);
    const other = keygen(home, 'other', ['-t', 'ed25519']);
    const added = await app.request({ method: 'POST', url: '/v1/user/ssh-keys', headers: bearer(alice.key), payload: { key: key.publicLine, title: 'laptop' } });
    assert.equal(added.statusCode, 201, added.body);
    const id = (added.json() as { id: number }).id;

    const ui = await openConsole(t, app, kind);
    const { page } = ui;
    await signIn(ui, 'alice', alice.password);
    await page.getByRole('link', { name: 'SSH keys' }).click();
    const row = page.getByRole('row', { name: /laptop/ });
    await row.waitFor();
    assert.equal(await row.getByText('Verified', { exact: true }).count(), 0, 'no badge before the proof');

    await page.getByRole('button', { name: 'Verify SSH key laptop' }).click();
    const dialog = page.getByRole('dialog', { name: 'Prove you hold “laptop”' });
    const commandField = dialog.getByRole('textbox', { name: 'Command to run' });
    await commandField.waitFor();
    const command = await commandField.inputValue();
    assert.match(command, /^printf '%s' 'keysmith-ssh-key-verification:\d+:[A-Za-z0-9]{40}' \| ssh-keygen -Y sign -n keysmith -f ~\/\.ssh\/id_ed25519$/);
    await ui.checkPage('ssh-key-verify-dialog');

    // Another key's signature of the same challenge: the server's own sentence, in the dialog.
    const challenge = /'(keysmith-ssh-key-verification:[^']+)'/.exec(command)![1]!;
    ui.expectHttpError(422, `/v1/user/ssh-keys/${id}/verification`);
    await dialog.getByLabel('Signature').fill(keygenSign(other, challenge));
    await dialog.getByRole('button', { name: 'Verify key' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'This signature was made with another key' }).waitFor();
    await ui.checkPage('ssh-key-verify-refused');

    // The command as shown, run by sh in a home that holds the key.
    const signature = execFileSync('sh', ['-c', command], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] }).toString('utf8');
    await dialog.getByLabel('Signature').fill(signature);
    await dialog.getByRole('button', { name: 'Verify key' }).click();
    await page.getByRole('status').filter({ hasText: 'Verified the SSH key “laptop”' }).waitFor();
    await row.getByText('Verified', { exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Verify SSH key laptop' }).count(), 0, 'a verified key has no Verify button');
    await ui.checkPage('ssh-key-verified');

    const listed = (await app.request({ method: 'GET', url: '/v1/user/ssh-keys', headers: bearer(alice.key) })).json() as Array<{ id: number; verified: boolean }>;
    assert.deepEqual(
      listed.map((k) => [k.id, k.verified]),
      [[id, true]],
    );
    await ui.finish();
  });
});

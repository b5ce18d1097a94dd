// Proof of possession of one SSH key, in a modal <dialog>: opening it asks for a challenge, shows the
// ssh-keygen line to run (with a copy button), and takes the signature it prints. The key is marked
// verified when the signature is by this key over this challenge.
import { useId, useRef, useState, type FormEvent } from 'react';
import { post, put } from '../api/client.ts';
import type { SshKey, VerificationChallenge } from '../api/types.ts';
import { useAction } from '../use-load.ts';
import { ErrorNotice, Loading } from './notices.tsx';
import { PublicKey } from './public-key.tsx';
import { When } from './when.tsx';

export function VerifySshKeyButton({ sshKey, onVerified }: { sshKey: SshKey; onVerified: (key: SshKey) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const signatureId = useId();
  const [challenge, setChallenge] = useState<VerificationChallenge | undefined>();
  const [signature, setSignature] = useState('');
  const ask = useAction(() => post<VerificationChallenge>(`/v1/user/ssh-keys/${sshKey.id}/verification`));
  const answer = useAction((text: string) => put<SshKey>(`/v1/user/ssh-keys/${sshKey.id}/verification`, { signature: text }));
  const close = () => dialog.current?.close();

  const open = async () => {
    setChallenge(undefined);
    setSignature('');
    answer.clearError();
    dialog.current?.showModal();
    const result = await ask.run();
    if (result.ok) setChallenge(result.value);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const result = await answer.run(signature.trim());
    if (!result.ok) return;
    close();
    onVerified(result.value);
  };

  return (
    <>
      <button type="button" aria-label={`Verify SSH key ${sshKey.title}`} onClick={() => void open()}>
        Verify
      </button>
      <dialog ref={dialog} className="verify-key" aria-labelledby={titleId}>
        <form onSubmit={submit}>
          <h2 id={titleId}>Prove you hold “{sshKey.title}”</h2>
          {ask.busy && <Loading what="a challenge" />}
          <ErrorNotice error={ask.error} />
          {challenge && (
            <>
              <p>
                Run this in a terminal on the computer that holds the private key of <code className="fingerprint">{sshKey.fingerprint_sha256}</code> (change the path after <code>-f</code> if your key
                is elsewhere). It signs the challenge with your key; nothing secret leaves your computer.
              </p>
              <PublicKey label="Command to run" value={challenge.command} rows={3} />
              <p className="hint">
                The challenge works once, until <When iso={challenge.expires_at} />.
              </p>
              <div className="field">
                <label htmlFor={signatureId}>Signature</label>
                <textarea
                  id={signatureId}
                  required
                  rows={7}
                  spellCheck={false}
                  autoComplete="off"
                  value={signature}
                  onChange={(e) => setSignature(e.target.value)}
                  aria-describedby={`${signatureId}-hint`}
                />
                <p className="hint" id={`${signatureId}-hint`}>
                  Paste everything the command printed, from <code>-----BEGIN SSH SIGNATURE-----</code> to <code>-----END SSH SIGNATURE-----</code>.
                </p>
              </div>
            </>
          )}
          <ErrorNotice error={answer.error} />
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={!challenge || answer.busy}>
              Verify key
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

// The "new password, twice" fields of the Password page and the set-password page, with the check
// that both say the same before anything is sent. The server decides whether it is long enough.
import { useState } from 'react';

export function useNewPassword() {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState(false);
  return {
    password,
    fields: { password, again, mismatch, setPassword, setAgain },
    /** Shows the mismatch notice when the two differ; true when the password may be sent. */
    confirmed(): boolean {
      setMismatch(password !== again);
      return password === again;
    },
    clear(): void {
      setPassword('');
      setAgain('');
    },
  };
}

interface FieldsProps {
  password: string;
  again: string;
  mismatch: boolean;
  setPassword: (value: string) => void;
  setAgain: (value: string) => void;
}

export function NewPasswordFields({ password, again, mismatch, setPassword, setAgain }: FieldsProps) {
  return (
    <>
      <div className="field">
        <label htmlFor="new-password">New password</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          required
          maxLength={1024}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby="new-password-hint"
        />
        <p className="hint" id="new-password-hint">
          A long passphrase is best; Keysmith says if it is too short.
        </p>
      </div>
      <div className="field">
        <label htmlFor="new-password-again">New password again</label>
        <input id="new-password-again" type="password" autoComplete="new-password" required maxLength={1024} value={again} onChange={(e) => setAgain(e.target.value)} />
      </div>
      {mismatch && (
        <div className="notice error" role="alert">
          <p>The two passwords are not the same. Type the new password twice.</p>
        </div>
      )}
    </>
  );
}

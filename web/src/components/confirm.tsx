// A destructive action asks first, in a modal <dialog>: the browser keeps focus inside it, Escape
// cancels, and focus returns to the button that opened it.
import { useId, useRef, type ReactNode } from 'react';
import { useAction } from '../use-load.ts';
import { ErrorNotice } from './notices.tsx';

interface ConfirmProps {
  /** The button that opens the dialog, e.g. "Delete". */
  label: string;
  /** Spoken with the button, to tell apart the many "Delete" buttons of a table. */
  labelFor: string;
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  /** Called as the dialog opens, to reset choices made inside it last time. */
  onOpen?: () => void;
  danger?: boolean;
}

export function ConfirmButton({ label, labelFor, title, children, confirmLabel, onConfirm, onOpen, danger = true }: ConfirmProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const action = useAction(onConfirm);
  // The dialog is opened and closed on the element itself, in the same event as the click or key:
  // mirroring it in React state lost a reopen that came before the close had rendered.
  const close = () => dialog.current?.close();

  const confirm = async () => {
    const result = await action.run();
    // Closing before React renders the outcome lets the page's status message take focus, instead of
    // the dialog handing focus back to a button that is about to go.
    if (result.ok) close();
  };

  return (
    <>
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        aria-label={`${label} ${labelFor}`}
        onClick={() => {
          action.clearError();
          onOpen?.();
          dialog.current?.showModal();
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            void confirm();
          }}
        >
          <h2 id={titleId}>{title}</h2>
          {children}
          <ErrorNotice error={action.error} />
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className={danger ? 'danger' : undefined} disabled={action.busy}>
              {confirmLabel}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

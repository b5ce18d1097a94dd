// A destructive action asks first, in a modal <dialog>: the browser keeps focus inside it, Escape
// cancels, and focus returns to the button that opened it.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
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
  const [open, setOpen] = useState(false);
  const action = useAction(onConfirm);

  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const confirm = async () => {
    const result = await action.run();
    if (!result.ok) return;
    // Close now, before React renders the outcome: the page's status message then takes focus from
    // the opener, instead of the closing dialog handing focus back to a button that is about to go.
    dialog.current?.close();
    setOpen(false);
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
          setOpen(true);
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId} onClose={() => setOpen(false)}>
        {open && (
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
              <button type="button" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button type="submit" className={danger ? 'danger' : undefined} disabled={action.busy}>
                {confirmLabel}
              </button>
            </div>
          </form>
        )}
      </dialog>
    </>
  );
}

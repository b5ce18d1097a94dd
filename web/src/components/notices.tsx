// How the console says what happened: the server's own sentence for an error (with its remedy), or for
// a missing grant the console's own sentence with the link to the server's grant_url (the API's text
// names a PUT, for API clients); and a short line for a change that worked.
import { useEffect, useRef } from 'react';
import { Link, useLocation } from 'react-router';
import type { ApiError } from '../api/client.ts';
import { grantCatalogue, isGrantScope } from '../../../src/modules/grants/grants.catalogue.ts';

/** A same-origin URL as a path the router can open; undefined for another origin. */
function localPath(url: string): string | undefined {
  try {
    const parsed = new URL(url, window.location.origin);
    return parsed.origin === window.location.origin ? `${parsed.pathname}${parsed.search}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A grant the request lacks, in the console's words: the API's own message and remedy speak to API
 * clients (a URL and a PUT to call), a person here gets a sentence and the link.
 */
function grantSentence(grant: string | undefined): string {
  const title = grant !== undefined && isGrantScope(grant) ? grantCatalogue[grant].title : undefined;
  return title
    ? `This needs your permission “${title}”, which you have not given. Give it in Settings → Permissions (you can revoke it there at any time), then try again.`
    : 'This needs a permission you have not given. Give it in Settings → Permissions, then try again.';
}

export function ErrorNotice({ error }: { error: ApiError | undefined }) {
  const here = useLocation();
  if (!error) return null;
  const grantPath = error.grantUrl ? localPath(error.grantUrl) : undefined;
  return (
    <div className="notice error" role="alert">
      {error.grantUrl ? (
        <p>{grantSentence(error.grant)}</p>
      ) : (
        <>
          <p>{error.message}</p>
          {error.remedy && <p>{error.remedy}</p>}
        </>
      )}
      {error.grantUrl &&
        (grantPath ? (
          <p>
            {/* The Permissions page offers the way back here once the grant is given. */}
            <Link to={grantPath} state={{ back: `${here.pathname}${here.search}` }}>
              Give this permission in Settings → Permissions
            </Link>
          </p>
        ) : (
          <p>
            <a href={error.grantUrl}>Give this permission in Settings → Permissions</a>
          </p>
        ))}
    </div>
  );
}

/**
 * The outcome of the last change. The live region is always on the page, so a screen reader announces
 * each new message; it takes focus too, because the control that made the change is often gone (a
 * deleted row's button).
 */
export function Done({ children }: { children: string | undefined }) {
  const region = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (children) region.current?.focus({ preventScroll: false });
  }, [children]);
  return (
    <p ref={region} className="notice done" role="status" tabIndex={-1}>
      {children}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-busy="true">Loading {what}…</p>;
}

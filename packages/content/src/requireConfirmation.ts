import { ConfirmationError } from './errors.js';
import type { GhostSite } from './GhostSiteConnector.js';
import { siteName } from './siteName.js';

/**
 * A real run goes ahead only when `confirmSite` names the site in the secret, so a run aimed at the
 * wrong site (or a copy-pasted event) changes nothing. `consequence` ends each message, e.g.
 * "Nothing was deleted."; `example` is the event that would pass.
 */
export function requireConfirmation(
  confirmSite: string | undefined,
  site: GhostSite,
  texts: { what: string; consequence: string; example: string },
): void {
  if (confirmSite === undefined) {
    throw new ConfirmationError(
      `${texts.what} needs "confirmSite" naming the site this function is configured for. Invoke with ${texts.example}. ${texts.consequence}`,
    );
  }
  if (siteName(confirmSite) !== site.name) {
    throw new ConfirmationError(
      `"confirmSite" is '${confirmSite}', but this function is configured for '${site.name}'. ${texts.consequence}`,
    );
  }
}

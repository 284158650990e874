/**
 * The Ghost webhook events this service plans invalidations for, one target URL each (Ghost's body
 * carries no event name). `post.added`, `post.edited` and the tag attach/detach events are left out:
 * every public change they describe also fires one of these, and drafts change no public URL.
 */
export const HANDLED_EVENTS = [
  'site.changed',
  'post.published',
  'post.published.edited',
  'post.unpublished',
  'post.deleted',
  'page.published',
  'page.published.edited',
  'page.unpublished',
  'page.deleted',
  'tag.edited',
  'tag.deleted',
] as const;

export type HandledEvent = (typeof HANDLED_EVENTS)[number];

export function isHandledEvent(event: string): event is HandledEvent {
  return (HANDLED_EVENTS as readonly string[]).includes(event);
}

import { PayloadShapeError } from './errors.js';
import type { HandledEvent } from './ghostEvents.js';
import type { SitePaths } from './sitePaths.js';

/** What one accepted event asks to invalidate, before coalescing. */
export interface EventPlan {
  /** Viewer paths (a trailing `*` is a CloudFront wildcard). */
  paths: string[];
  /** The whole site changed (`/*`). */
  everything: boolean;
  /** A `site.changed` whose meaning (echo or everything) is decided when the batch is cut. */
  siteChanged: boolean;
  /** The post, page or tag the event is about; events about one entity close together form one change. */
  entityId?: string;
}

type Entity = Record<string, unknown>;

/**
 * Tag fields that show only on the tag's own pages. A change to any other field (name, slug,
 * visibility) or a deletion alters every page that lists the tag, whose URLs the payload does not
 * name: that is a change of everything.
 */
const TAG_PAGE_ONLY_FIELDS = new Set([
  'description',
  'feature_image',
  'og_image',
  'og_title',
  'og_description',
  'twitter_image',
  'twitter_title',
  'twitter_description',
  'meta_title',
  'meta_description',
  'codeinjection_head',
  'codeinjection_foot',
  'canonical_url',
  'accent_color',
  'updated_at',
]);

/**
 * Plans the paths one Ghost webhook changes, from its payload alone:
 * - post: its URL (and the old one after a slug change or when it stops being public), home and its
 *   pagination, `/rss/`, the tag and author archives of current and previous tags and authors
 *   (`/tag/<slug>/*` covers the archive, its pages and its feed in one wildcard), the sitemaps;
 * - page: its URL (old and new) and the sitemaps, as pages are not listed on archives;
 * - tag: its archive under the current and previous slug when only tag-page fields changed, else everything;
 * - site.changed: decided later by the coalescer (an echo of a content change or everything).
 * A change to a post that neither is nor was published plans nothing.
 */
export function planEventPaths(event: HandledEvent, body: unknown, site: SitePaths): EventPlan {
  if (event === 'site.changed') return { paths: [], everything: false, siteChanged: true };
  const [resource] = event.split('.') as ['post' | 'page' | 'tag'];
  const { current, previous } = changeOf(body, resource);
  const entityId = stringField(current, 'id') ?? stringField(previous, 'id');
  const plan: EventPlan = { paths: [], everything: false, siteChanged: false, ...(entityId ? { entityId } : {}) };
  if (resource === 'tag') {
    planTag(event, current, previous, site, plan);
  } else {
    planPostOrPage(resource, current, previous, site, plan);
  }
  plan.paths = [...new Set(plan.paths)];
  return plan;
}

function planPostOrPage(
  resource: 'post' | 'page',
  current: Entity,
  previous: Entity,
  site: SitePaths,
  plan: EventPlan,
): void {
  const isPublic = current.status === 'published';
  // `previous` holds only changed columns (all of them on delete): an absent status did not change.
  const wasPublic = 'status' in previous ? previous.status === 'published' : isPublic;
  if (!isPublic && !wasPublic) return;

  const currentSlug = stringField(current, 'slug');
  const previousSlug = stringField(previous, 'slug') ?? currentSlug;
  const currentUrl = site.publicPathOf(current.url);
  if (isPublic) {
    const path = currentUrl ?? (currentSlug ? site.at(`/${site.segment(currentSlug)}/`) : undefined);
    if (path) plan.paths.push(path);
  }
  if (wasPublic && previousSlug) {
    plan.paths.push(previousPathOf(currentUrl, currentSlug, previousSlug, site));
  }

  if (resource === 'page') {
    plan.paths.push(site.at('/sitemap.xml'), site.at('/sitemap-pages.xml'));
    return;
  }
  plan.paths.push(site.at('/'), site.at('/page/*'), site.at('/rss/'));
  for (const slug of slugsOf(current.tags, previous.tags)) plan.paths.push(site.at(`/tag/${site.segment(slug)}/*`));
  for (const slug of slugsOf(current.authors, previous.authors)) {
    plan.paths.push(site.at(`/author/${site.segment(slug)}/*`));
  }
  plan.paths.push(
    site.at('/sitemap.xml'),
    site.at('/sitemap-posts.xml'),
    site.at('/sitemap-tags.xml'),
    site.at('/sitemap-authors.xml'),
  );
}

/**
 * The URL the post had before this change. Ghost never sends `previous.url`: with custom routes the
 * current URL is the best template (its last slug segment swapped), else the default route `/<slug>/`.
 */
function previousPathOf(
  currentUrl: string | undefined,
  currentSlug: string | undefined,
  previousSlug: string,
  site: SitePaths,
): string {
  const oldSegment = `/${site.segment(previousSlug)}/`;
  if (currentUrl && currentSlug) {
    const newSegment = `/${site.segment(currentSlug)}/`;
    const at = currentUrl.lastIndexOf(newSegment);
    if (at >= 0) return `${currentUrl.slice(0, at)}${oldSegment}${currentUrl.slice(at + newSegment.length)}`;
  }
  return site.at(oldSegment);
}

function planTag(event: HandledEvent, current: Entity, previous: Entity, site: SitePaths, plan: EventPlan): void {
  const changedFields = Object.keys(previous);
  const pageOnly = event === 'tag.edited' && changedFields.every((field) => TAG_PAGE_ONLY_FIELDS.has(field));
  if (!pageOnly) {
    plan.everything = true;
    plan.paths.push(site.everything);
    return;
  }
  // The tag's own `url` lags behind a slug change in Ghost's URL service: slugs are the truth.
  for (const slug of new Set([stringField(current, 'slug'), stringField(previous, 'slug')])) {
    if (slug) plan.paths.push(site.at(`/tag/${site.segment(slug)}/*`));
  }
  plan.paths.push(site.at('/sitemap-tags.xml'));
}

function changeOf(body: unknown, resource: string): { current: Entity; previous: Entity } {
  if (!isObject(body)) throw new PayloadShapeError('the body must be a JSON object');
  const change = body[resource];
  if (!isObject(change)) throw new PayloadShapeError(`the body must have a "${resource}" object`);
  const current = change.current ?? {};
  const previous = change.previous ?? {};
  if (!isObject(current) || !isObject(previous)) {
    throw new PayloadShapeError(`"${resource}.current" and "${resource}.previous" must be objects`);
  }
  if (Object.keys(current).length === 0 && Object.keys(previous).length === 0) {
    throw new PayloadShapeError(`"${resource}" has neither current nor previous fields`);
  }
  return { current, previous };
}

function slugsOf(...lists: unknown[]): Set<string> {
  const slugs = new Set<string>();
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (isObject(item) && typeof item.slug === 'string' && item.slug !== '') slugs.add(item.slug);
    }
  }
  return slugs;
}

function stringField(entity: Entity, field: string): string | undefined {
  const value = entity[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isObject(value: unknown): value is Entity {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How an operator names a site in a confirmation: host plus any subdirectory, lower case, no
 * scheme or trailing slash. `https://Blog.Example.com/news/` → `blog.example.com/news`.
 */
export function siteName(urlOrName: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrName) ? urlOrName.trim() : `https://${urlOrName.trim()}`;
  try {
    const url = new URL(withScheme);
    return `${url.host}${url.pathname}`.replace(/\/+$/, '').toLowerCase();
  } catch {
    return urlOrName.trim().toLowerCase();
  }
}

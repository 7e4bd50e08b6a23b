/** Reading a rendered report in tests: occurrences, one section, and the text a reader sees. */

export const count = (html: string, needle: string | RegExp) =>
  typeof needle === 'string' ? html.split(needle).length - 1 : (html.match(needle) ?? []).length;

/** The markup of `<section id="ID">`, or '' when the report has no such section. */
export const sectionOf = (html: string, id: string) => {
  const start = html.indexOf(`<section id="${id}"`);
  return start < 0 ? '' : html.slice(start, html.indexOf('</section>', start));
};

/** Tags dropped and the few entities the report writes turned back, so sentences can be matched whole. */
export const text = (html: string) =>
  html.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Makes any text safe as HTML/SVG element content or a quoted attribute value. Class
 * names and paths come from the user's folders, so every piece of data goes through here.
 *
 * @example
 * escapeHtml('<b>"x"</b>'); // '&lt;b&gt;&quot;x&quot;&lt;/b&gt;'
 */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => entities[c]);
}

/** Tagged template whose `${}` values are escaped; values wrapped with `raw()` are trusted markup. */
export function html(strings: TemplateStringsArray, ...values: (string | number | Raw | Raw[])[]): Raw {
  let out = strings[0];
  values.forEach((v, i) => {
    out += toMarkup(v) + strings[i + 1];
  });
  return new Raw(out);
}

/** Markup already built from escaped parts. */
export class Raw {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export function raw(markup: string): Raw {
  return new Raw(markup);
}

function toMarkup(v: string | number | Raw | Raw[]): string {
  if (v instanceof Raw) return v.markup;
  if (Array.isArray(v)) return v.map((r) => r.markup).join('');
  return escapeHtml(v);
}

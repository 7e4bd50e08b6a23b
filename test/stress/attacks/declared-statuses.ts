/** An OpenAPI operation's path as a pattern: `/v1/models/{version}` matches `/v1/models/v2`. */
function pathPattern(template: string): RegExp {
  return new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^/}]+\}/g, '[^/]+')}$`);
}

type Paths = Record<string, Record<string, { responses: Record<string, unknown> }>>;

/**
 * Every status the suite's requests got, by the OpenAPI operation that answered them, so the
 * run can check that the document declares each one. Requests that match no operation (unknown
 * paths or methods, answered by the router's 404) are left out.
 */
export class StatusLog {
  private seen = new Map<string, Set<number>>();

  /** Passes `response` through, noting its status under the request's method and path. */
  async record(method: string | undefined, path: string, response: Promise<Response>): Promise<Response> {
    const res = await response;
    const key = `${(method ?? 'GET').toUpperCase() === 'HEAD' ? 'GET' : (method ?? 'GET').toUpperCase()} ${path.split('?')[0]}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)!.add(res.status);
    return res;
  }

  /**
   * The statuses an operation answered with that the document does not declare for it, as
   * `GET /v1/models/{version} 429` lines, and how many operations and statuses were checked.
   */
  undeclared(document: { paths: Paths }): { missing: string[]; operations: number; statuses: number } {
    const templates = Object.keys(document.paths).map((template) => ({ template, pattern: pathPattern(template) }));
    const found = new Map<string, Set<number>>();
    for (const [key, statuses] of this.seen) {
      const [method, path] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1)];
      // A literal path wins over a template (/v1/routing/rollback is not /v1/routing/{x}).
      const match = templates.filter((t) => t.pattern.test(path)).sort((a, b) => a.template.split('{').length - b.template.split('{').length)[0];
      const operation = match && document.paths[match.template][method.toLowerCase()];
      if (!operation) continue;
      const id = `${method} ${match.template}`;
      if (!found.has(id)) found.set(id, new Set());
      for (const status of statuses) found.get(id)!.add(status);
    }
    const missing: string[] = [];
    let statuses = 0;
    for (const [id, set] of found) {
      const [method, template] = id.split(' ');
      const declared = document.paths[template][method.toLowerCase()].responses;
      for (const status of [...set].sort()) {
        statuses++;
        if (!(String(status) in declared)) missing.push(`${id} ${status}`);
      }
    }
    return { missing: missing.sort(), operations: found.size, statuses };
  }
}

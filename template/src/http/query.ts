import { parse } from 'node:querystring';
import { HttpError } from './errors.ts';

const MAX_PARAMS = 32;

/**
 * Express's query parser: flat `key=value` pairs only (no `a[b][c]` nesting, no prototype keys: the
 * result has a null prototype) and at most MAX_PARAMS of them, else 400 (A5). Duplicated keys become
 * arrays, which scalar schemas reject with 400 (A6).
 */
export function parseQuery(raw: string | null | undefined): Record<string, string | string[]> {
  const search = raw ?? '';
  let params = search === '' ? 0 : 1;
  for (let i = search.indexOf('&'); i !== -1; i = search.indexOf('&', i + 1)) {
    params += 1;
    if (params > MAX_PARAMS) throw new HttpError(400, `At most ${MAX_PARAMS} query parameters are accepted`);
  }
  return parse(search, '&', '=', { maxKeys: MAX_PARAMS }) as Record<string, string | string[]>;
}

import { parse } from 'node:querystring';
import { HttpError } from './errors.ts';

const MAX_PARAMS = 32;

/** Flat, null-prototype, capped: no nesting or prototype keys (A5); repeated keys become arrays, refused (A6). */
export function parseQuery(raw: string | null | undefined): Record<string, string | string[]> {
  const search = raw ?? '';
  let params = search === '' ? 0 : 1;
  for (let i = search.indexOf('&'); i !== -1; i = search.indexOf('&', i + 1)) {
    params += 1;
    if (params > MAX_PARAMS) throw new HttpError(400, `At most ${MAX_PARAMS} query parameters are accepted`);
  }
  return parse(search, '&', '=', { maxKeys: MAX_PARAMS }) as Record<string, string | string[]>;
}

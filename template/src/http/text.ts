import { z } from 'zod';

// Patterns, not refinements, so that the OpenAPI document states them (H3).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const SINGLE_LINE = /^[^\u0000-\u001F\u007F-\u009F]*$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const MULTI_LINE = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$/;
// What String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator), spelled out for any regex dialect.
const NOT_BLANK = /[^\t-\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]/;

/** Length in code points, as JSON Schema's minLength/maxLength count it (a surrogate pair is one). */
function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/** No NUL or other control characters, nor lone surrogates, which `text` columns and logs must not get (F1). */
export function text(options: { min?: number; max: number; singleLine?: boolean; trim?: boolean }) {
  const { max, singleLine = false } = options;
  const min = options.min ?? 0;
  let schema = z
    .string()
    .regex(
      singleLine ? SINGLE_LINE : MULTI_LINE,
      singleLine ? 'must not contain control characters' : 'must not contain control characters other than tab and newlines',
    )
    // A lone surrogate is not Unicode text, so no JSON Schema string is one: nothing to state in the document.
    .refine((value) => value.isWellFormed(), 'must be valid Unicode text')
    .refine((value) => codePoints(value) >= min, `must be at least ${min} characters long`)
    .refine((value) => codePoints(value) <= max, `must be at most ${max} characters long`)
    .meta({ minLength: min, maxLength: max });
  if (options.trim === true) {
    // Counted before trimming, so the stored value never exceeds what the document allows.
    if (min > 0) schema = schema.regex(NOT_BLANK, 'must not be blank');
    schema = schema.trim();
  }
  return schema;
}

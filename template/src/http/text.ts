import { z } from 'zod';

/** No lone surrogates or NUL, which `text` columns refuse: "\u0000" must be a 400, not a 500 (F1). */
export function text(options: { min?: number; max: number; singleLine?: boolean; trim?: boolean }) {
  const base = options.trim === true ? z.string().trim() : z.string();
  return base
    .min(options.min ?? 0)
    .max(options.max)
    .refine((value) => value.isWellFormed(), 'must be valid Unicode text')
    .refine(
      (value) => !(options.singleLine === true ? /\p{Cc}/u : /[^\P{Cc}\t\n\r]/u).test(value),
      options.singleLine === true ? 'must not contain control characters' : 'must not contain control characters other than tab and newlines',
    );
}

// Input validation for the admin API: zod schemas for query strings and JSON bodies, turned into
// the taxonomy's InvalidRequestError listing every problem. Imports zod and ../errors.js only.
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';

function problems(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

/** Validates the query string (every parameter once; repeated ones are refused). */
export function parseQuery<S extends z.ZodType>(schema: S, originalUrl: string): z.infer<S> {
  const params = new URL(originalUrl, 'http://admin.invalid').searchParams;
  const raw: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in raw) throw new InvalidRequestError(`Query parameter "${k.slice(0, 40)}" is given more than once.`);
    raw[k] = v;
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new InvalidRequestError(`Invalid query: ${problems(r.error)}.`);
  return r.data;
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (!r.success) throw new InvalidRequestError(`Invalid request body: ${problems(r.error)}.`);
  return r.data;
}

/** 'YYYY-MM-DD' (local day) or epoch milliseconds, as the ledger queries take them. */
export const dateBound = z.string().regex(/^(\d{4}-\d{2}-\d{2}|\d{1,15})$/, 'a date YYYY-MM-DD or epoch milliseconds')
  .transform((s) => (/^\d{4}-/.test(s) ? s : Number(s)));

export const intParam = (min: number, max: number) => z.string().regex(/^\d{1,16}$/, 'an integer')
  .transform(Number).pipe(z.number().int().min(min).max(max));

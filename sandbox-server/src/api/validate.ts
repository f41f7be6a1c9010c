// Input checks shared by the HTTP API and the editor socket: a request's shape (its schema and the
// refusal for a bad field are in shapes/requests.ts) and the code's size (the server's limit).
import { z } from 'zod';
import { refusalOf } from '../shapes/requests.ts';
import { ApiError } from './errors.ts';

/** The body as the schema reads it, with its code within the limit; else a 4xx naming what is wrong. */
export function readBody<S extends z.ZodType<{ code: string }>>(schema: S, body: unknown, maxCodeBytes: number): z.infer<S> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_body', 'Send a JSON object like {"code": "<TypeScript>"}.');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const refusal = refusalOf(parsed.error, body as Record<string, unknown>) ?? { code: 'invalid_body', message: z.prettifyError(parsed.error) };
    throw new ApiError(400, refusal.code, refusal.message);
  }
  requireCodeWithin(parsed.data.code, maxCodeBytes);
  return parsed.data;
}

export function requireCodeWithin(code: string, maxCodeBytes: number): void {
  const bytes = Buffer.byteLength(code);
  if (bytes > maxCodeBytes) {
    throw new ApiError(413, 'code_too_large', `The code is ${bytes} bytes; the limit is ${maxCodeBytes} bytes.`);
  }
}

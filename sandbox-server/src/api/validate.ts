// Input checks shared by the HTTP API and the WebSocket endpoint.
import { ApiError } from './errors.ts';

export function requireCode(body: unknown, maxCodeBytes: number): string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_body', 'Send a JSON object like {"code": "<TypeScript>"}.');
  }
  const code = (body as Record<string, unknown>).code;
  if (code === undefined) throw new ApiError(400, 'missing_code', 'The field "code" is missing: send {"code": "<TypeScript>"}.');
  if (typeof code !== 'string') throw new ApiError(400, 'invalid_code', 'The field "code" must be a string of TypeScript.');
  const bytes = Buffer.byteLength(code);
  if (bytes > maxCodeBytes) {
    throw new ApiError(413, 'code_too_large', `The code is ${bytes} bytes; the limit is ${maxCodeBytes} bytes.`);
  }
  return code;
}

export function optionalExerciseId(body: unknown): string | undefined {
  const id = (body as Record<string, unknown>).exerciseId;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string') throw new ApiError(400, 'invalid_exercise_id', 'The field "exerciseId" must be a string.');
  return id;
}

// Every error the API returns is JSON: {"error":{"code","message"}} with the matching HTTP status;
// "try again later" errors (429 busy, rate_limited) also carry a Retry-After header in seconds.
import type { ErrorRequestHandler, Response } from 'express';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds after which the same request may succeed (Retry-After; the WebSocket's retryAfter). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** Turns body-parser failures and thrown errors into JSON answers; never leaks a stack trace. */
export function jsonErrors(maxBodyBytes: number): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (err instanceof ApiError) {
      if (err.retryAfter !== undefined) res.setHeader('Retry-After', String(err.retryAfter));
      return sendError(res, err.status, err.code, err.message);
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') return sendError(res, 400, 'malformed_json', `The request body is not valid JSON: ${(err as Error).message}`);
    if (type === 'entity.too.large') return sendError(res, 413, 'too_large', `The request body is larger than ${maxBodyBytes} bytes.`);
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') return sendError(res, 415, 'unsupported_encoding', 'Send the body as UTF-8 JSON.');
    console.error('unexpected error:', err);
    sendError(res, 500, 'internal', 'Something went wrong on the server; the error was logged.');
  };
}

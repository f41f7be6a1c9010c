// The editors' WebSocket protocol (/api/ws): JSON text frames, each a message with a `type`.
// Client → server: run, check, stop (validated here; a bad field gets the refusal requests.ts
// gives it, as over HTTP). Server → client: a job's streamed events and its end (exit or verdict), or an error.
// Every message names the job it belongs to by the client's request id. Browser-safe (no node:
// imports): the site imports its types (and only its types, so zod stays out of the page).
import { z } from 'zod';
import { codeField, exerciseIdField, fieldRefusal, refusalOf, requestIdField, sharedField, type Refusal } from './requests.ts';
import { compileErrorSchema, runResultSchema } from './run.ts';
import { trafficSchema } from './traffic.ts';
import { testResultSchema, verdictSchema } from './verdict.ts';

export type { Refusal };

export const runRequestSchema = z.object({
  type: z.literal('run'),
  id: requestIdField,
  code: codeField,
  /** Run with this exercise's limits and services (optional). */
  exerciseId: exerciseIdField.nullish(),
  /** Use these shared servers instead of fresh ones (optional), e.g. ["chat"]. */
  shared: sharedField.optional(),
});
export const checkRequestSchema = z.object({ type: z.literal('check'), id: requestIdField, code: codeField, exerciseId: exerciseIdField });
/** Ends that run or check early; the server answers with its exit or verdict. */
export const stopRequestSchema = z.object({ type: z.literal('stop'), id: requestIdField });

export const clientMessageSchema = z.discriminatedUnion('type', [runRequestSchema, checkRequestSchema, stopRequestSchema], {
  error: (issue) => {
    const type = (issue.input as { type?: unknown } | undefined)?.type;
    return `Unknown message type ${JSON.stringify(type) ?? 'undefined'}; use "run", "check" or "stop".`;
  },
});
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type RunRequest = z.infer<typeof runRequestSchema>;
export type CheckRequest = z.infer<typeof checkRequestSchema>;

export type ReadResult = { ok: true; message: ClientMessage } | { ok: false; id?: string; refusal: Refusal };

/**
 * Validates a parsed client message. A refusal carries the request's id when it had a valid one,
 * so the client can tell which of its requests was refused.
 */
export function readClientMessage(data: unknown): ReadResult {
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, refusal: { code: 'malformed_message', message: 'Malformed message: a message must be a JSON object.' } };
  }
  const fields = data as Record<string, unknown>;
  const id = requestIdField.safeParse(fields.id);
  if (!id.success) return { ok: false, refusal: fieldRefusal('id', fields.id) };
  const parsed = clientMessageSchema.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  if (issue.path[0] === 'type') return { ok: false, id: id.data, refusal: { code: 'unknown_type', message: issue.message } };
  const refusal = refusalOf(parsed.error, fields) ?? { code: 'invalid_message', message: z.prettifyError(parsed.error) };
  return { ok: false, id: id.data, refusal };
}

const jobId = z.string();
export const serverMessageSchema = z.discriminatedUnion('type', [
  /** The program did not compile (line and column in the learner's main.ts). */
  z.strictObject({ type: z.literal('compile-error'), id: jobId, ...compileErrorSchema.shape }),
  /** What the program printed, as it happens. */
  z.strictObject({ type: z.literal('output'), id: jobId, stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  /** A limit stopped the program (also said in the job's end message). */
  z.strictObject({ type: z.literal('limit'), id: jobId, message: z.string() }),
  /**
   * What the program exchanged since the last such message, while it runs (events and test marks new
   * since then; endpoints and truncation as they are now). The last one comes before the exit or verdict.
   */
  z.strictObject({ type: z.literal('traffic'), id: jobId, ...trafficSchema.shape }),
  /** One test of a check, as it finishes. */
  z.strictObject({ type: z.literal('test'), id: jobId, test: testResultSchema }),
  /** The end of a run. */
  z.strictObject({ type: z.literal('exit'), id: jobId, result: runResultSchema }),
  /** The end of a check. */
  z.strictObject({ type: z.literal('verdict'), id: jobId, verdict: verdictSchema }),
  /** A refused request (no id when the message had none); retryAfter (seconds) says when to try again. */
  z.strictObject({ type: z.literal('error'), id: jobId.optional(), code: z.string(), message: z.string(), retryAfter: z.number().positive().optional() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
export type ServerMessageType = ServerMessage['type'];

// The editors' WebSocket protocol (/api/ws): JSON text frames, each a message with a `type`.
// Client → server: run, check, stop (validated here with errors written for whoever wrote the
// client). Server → client: a job's streamed events and its end (exit or verdict), or an error.
// Every message names the job it belongs to by the client's request id. Browser-safe (no node:
// imports): the site imports its types (and only its types, so zod stays out of the page).
import { z } from 'zod';
import { compileErrorSchema, runResultSchema } from './run.ts';
import { testResultSchema, verdictSchema } from './verdict.ts';

/** An error the server answers with: `code` is the same as the HTTP API's for the same failure. */
export interface Refusal {
  code: string;
  message: string;
}

const MAX_ID_LENGTH = 128;

/** Each request field's refusal when it is missing or is not what it must be. */
const FIELD_REFUSALS = {
  id: {
    missing: { code: 'missing_id', message: 'Every message needs an "id" (string).' },
    invalid: { code: 'invalid_id', message: `The field "id" must be a string of 1 to ${MAX_ID_LENGTH} characters.` },
  },
  code: {
    missing: { code: 'missing_code', message: 'The field "code" is missing: send {"code": "<TypeScript>"}.' },
    invalid: { code: 'invalid_code', message: 'The field "code" must be a string of TypeScript.' },
  },
  exerciseId: {
    missing: { code: 'missing_exercise_id', message: 'A "check" needs an "exerciseId".' },
    invalid: { code: 'invalid_exercise_id', message: 'The field "exerciseId" must be a string.' },
  },
} satisfies Record<string, { missing: Refusal; invalid: Refusal }>;
type Field = keyof typeof FIELD_REFUSALS;

/** The field's refusal for this value (null counts as missing). */
function fieldRefusal(field: Field, value: unknown): Refusal {
  return value === undefined || value === null ? FIELD_REFUSALS[field].missing : FIELD_REFUSALS[field].invalid;
}
const refuseAs = (field: Field) => ({ error: (issue: { input?: unknown }) => fieldRefusal(field, issue.input).message });

const requestId = z.string(refuseAs('id')).min(1, FIELD_REFUSALS.id.invalid.message).max(MAX_ID_LENGTH, FIELD_REFUSALS.id.invalid.message);
const code = z.string(refuseAs('code'));

export const runRequestSchema = z.object({
  type: z.literal('run'),
  id: requestId,
  code,
  /** Run with this exercise's limits (optional). */
  exerciseId: z.string(refuseAs('exerciseId')).nullish(),
});
export const checkRequestSchema = z.object({
  type: z.literal('check'),
  id: requestId,
  code,
  exerciseId: z.string(refuseAs('exerciseId')),
});
/** Ends that run or check early; the server answers with its exit or verdict. */
export const stopRequestSchema = z.object({ type: z.literal('stop'), id: requestId });

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
  const id = requestId.safeParse(fields.id);
  if (!id.success) return { ok: false, refusal: fieldRefusal('id', fields.id) };
  const parsed = clientMessageSchema.safeParse(data);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const field = issue.path[0];
  if (field === 'type') return { ok: false, id: id.data, refusal: { code: 'unknown_type', message: issue.message } };
  if (typeof field === 'string' && field in FIELD_REFUSALS) return { ok: false, id: id.data, refusal: fieldRefusal(field as Field, fields[field]) };
  return { ok: false, id: id.data, refusal: { code: 'invalid_message', message: `${issue.path.join('.') || 'message'}: ${issue.message}` } };
}

const jobId = z.string();
export const serverMessageSchema = z.discriminatedUnion('type', [
  /** The program did not compile (line and column in the learner's main.ts). */
  z.strictObject({ type: z.literal('compile-error'), id: jobId, ...compileErrorSchema.shape }),
  /** What the program printed, as it happens. */
  z.strictObject({ type: z.literal('output'), id: jobId, stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  /** A limit stopped the program (also said in the job's end message). */
  z.strictObject({ type: z.literal('limit'), id: jobId, message: z.string() }),
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

// What a client sends to run or check code: the fields of the bodies of POST /api/run and
// POST /api/exercises/:id/submissions, which the editor socket's messages share, and for each field
// the refusal (error code and message) when it is missing or not what it must be, so both
// transports answer a bad field alike. Browser-safe (no node: imports).
import { z } from 'zod';

/** An error the server answers with: the same code over HTTP and over the editor socket. */
export interface Refusal {
  code: string;
  message: string;
}

export const MAX_REQUEST_ID_LENGTH = 128;

const FIELD_REFUSALS = {
  id: {
    missing: { code: 'missing_id', message: 'Every message needs an "id" (string).' },
    invalid: { code: 'invalid_id', message: `The field "id" must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters.` },
  },
  code: {
    missing: { code: 'missing_code', message: 'The field "code" is missing: send {"code": "<TypeScript>"}.' },
    invalid: { code: 'invalid_code', message: 'The field "code" must be a string of TypeScript.' },
  },
  exerciseId: {
    missing: { code: 'missing_exercise_id', message: 'A "check" needs an "exerciseId".' },
    invalid: { code: 'invalid_exercise_id', message: 'The field "exerciseId" must be a string.' },
  },
  shared: {
    missing: { code: 'invalid_shared', message: 'The field "shared" may be left out, or be a list of shared servers.' },
    invalid: { code: 'invalid_shared', message: 'The field "shared" must be a list of the shared servers a Run may join instead of its own: "chat".' },
  },
} satisfies Record<string, { missing: Refusal; invalid: Refusal }>;
export type RequestField = keyof typeof FIELD_REFUSALS;

/** The field's refusal for this value (null counts as missing). */
export function fieldRefusal(field: RequestField, value: unknown): Refusal {
  return value === undefined || value === null ? FIELD_REFUSALS[field].missing : FIELD_REFUSALS[field].invalid;
}

/** The refusal for a failed parse of a request: its first issue's field's, if a field is to blame. */
export function refusalOf(error: z.ZodError, request: Record<string, unknown>): Refusal | undefined {
  const field = error.issues[0]?.path[0];
  return typeof field === 'string' && field in FIELD_REFUSALS ? fieldRefusal(field as RequestField, request[field]) : undefined;
}

const refuseAs = (field: RequestField) => ({ error: (issue: { input?: unknown }) => fieldRefusal(field, issue.input).message });

/** The client's name for a job (editor socket), echoed in every message about it. */
export const requestIdField = z
  .string(refuseAs('id'))
  .min(1, FIELD_REFUSALS.id.invalid.message)
  .max(MAX_REQUEST_ID_LENGTH, FIELD_REFUSALS.id.invalid.message);
/** The learner's TypeScript (its size limit is the server's configuration: MAX_CODE_BYTES). */
export const codeField = z.string(refuseAs('code'));
export const exerciseIdField = z.string(refuseAs('exerciseId'));
/**
 * Reference servers a Run may use the shared, long-running instance of instead of a fresh one of
 * its own: a chat client sample then joins the chat that learners see in the lessons' terminal.
 */
export const SHAREABLE_SERVERS = ['chat'] as const;
export type ShareableServer = (typeof SHAREABLE_SERVERS)[number];
export const sharedField = z.array(z.enum(SHAREABLE_SERVERS), refuseAs('shared')).max(SHAREABLE_SERVERS.length, FIELD_REFUSALS.shared.invalid.message);

/** POST /api/run: run with an exercise's limits (and services) when one is named; `shared`: join those shared servers. */
export const runBodySchema = z.object({ code: codeField, exerciseId: exerciseIdField.nullish(), shared: sharedField.optional() });
/** POST /api/exercises/:id/submissions. */
export const submissionBodySchema = z.object({ code: codeField });

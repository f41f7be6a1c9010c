// The chat terminal's WebSocket protocol (/live/chat-terminal, chat-terminal-bridge.ts): the
// browser sends each line of chat as one text message (no newline); the bridge answers with JSON
// text messages, each one of these. Browser-safe: the site imports the types only.
import { z } from 'zod';

/** Why the bridge did not pass a line on to the chat. */
export const chatTerminalRefusalCodes = ['binary', 'control_characters', 'line_too_long', 'too_many_lines'] as const;

export const chatTerminalMessageSchema = z.discriminatedUnion('type', [
  /** A line the shared chat sent (its "\n" removed), as text: it may hold anything a chat user typed. */
  z.object({ type: z.literal('line'), text: z.string() }),
  /** A line of yours that the bridge did not send to the chat; the connection stays open. */
  z.object({ type: z.literal('refused'), code: z.enum(chatTerminalRefusalCodes), message: z.string() }),
]);
export type ChatTerminalMessage = z.infer<typeof chatTerminalMessageSchema>;
export type ChatTerminalRefusalCode = (typeof chatTerminalRefusalCodes)[number];

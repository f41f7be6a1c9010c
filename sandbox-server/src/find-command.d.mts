// Types for find-command.mjs (plain JavaScript: set-up runs it before `npm ci`).
export declare function findCommand(command: string, searchPath?: string): string | undefined;

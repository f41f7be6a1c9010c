// The verdict shape: Exercism's test-runner results.json, version 2, plus durationMs.
export type TestStatus = 'pass' | 'fail' | 'error';

export interface TestResult {
  name: string;
  status: TestStatus;
  message?: string;
  /** What the learner's program printed while this test ran (capped like Exercism's 500 chars). */
  output?: string;
}

export interface Verdict {
  version: 2;
  status: TestStatus;
  message?: string;
  tests: TestResult[];
  durationMs: number;
}

export const OUTPUT_CAP = 500;

export function capOutput(text: string): string | undefined {
  if (!text) return undefined;
  return text.length > OUTPUT_CAP ? `${text.slice(0, OUTPUT_CAP)}\n… output cut at ${OUTPUT_CAP} characters` : text;
}

// Captures one process's stdout and stderr up to a shared byte cap, decoding UTF-8 per stream so a
// character split across chunks is never mangled, and tells listeners about each piece as it comes.
import { AsyncResource } from 'node:async_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export type StreamName = 'stdout' | 'stderr';
export type OutputListener = (stream: StreamName, text: string) => void;

export class OutputCapture {
  readonly text: Record<StreamName, string> = { stdout: '', stderr: '' };
  private bytes = 0;
  private overflowed = false;
  private readonly listeners = new Set<OutputListener>();
  private readonly hideDir: RegExp | undefined;

  constructor(
    private readonly capBytes: number,
    private readonly onOverflow: () => void,
    /** The program's directory: removed where it prefixes a program file, so stack traces read `main.ts:3:5`. */
    programDir?: string,
  ) {
    if (programDir) {
      const dir = programDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      this.hideDir = new RegExp(`(?:file://)?${dir}(?=[\\w.-]+\\.(?:ts|mjs|js)\\b)`, 'g');
    }
  }

  get truncated(): boolean {
    return this.overflowed;
  }

  onOutput(listener: OutputListener): () => void {
    // Run the listener in the async context it was registered in (a grading test's), not the
    // pipe's: a pre-started sandbox's pipes were created before any grade began.
    const bound = AsyncResource.bind(listener);
    this.listeners.add(bound);
    return () => this.listeners.delete(bound);
  }

  attach(stream: StreamName, readable: Readable): void {
    const decoder = new StringDecoder('utf8');
    readable.on('data', (chunk: Buffer) => {
      if (this.overflowed) return;
      const room = this.capBytes - this.bytes;
      const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.bytes += kept.length;
      this.emit(stream, decoder.write(kept));
      if (kept.length < chunk.length) {
        this.overflowed = true;
        this.emit(stream, decoder.end());
        this.onOverflow();
      }
    });
    readable.on('end', () => {
      if (!this.overflowed) this.emit(stream, decoder.end());
    });
  }

  private emit(stream: StreamName, text: string): void {
    if (this.hideDir) text = text.replace(this.hideDir, '');
    if (!text) return;
    this.text[stream] += text;
    for (const listener of this.listeners) {
      try {
        listener(stream, text);
      } catch (err) {
        console.error('an output listener failed:', err); // a faulty listener must not stop the capture or the server
      }
    }
  }
}

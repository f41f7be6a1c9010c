// Text from the shared chat, made safe for a terminal. xterm.js interprets control characters
// (ESC starts a sequence that can clear the screen, move the cursor, change colours or the
// window's title), and the chat's lines come from anyone on the internet and from any program on
// its TCP port, so every control character is shown as visible text instead: C0 and DEL in caret
// notation, as terminals show them (ESC as ^[, DEL as ^?: plain ASCII, which every font has), C1
// (U+0080–U+009F; 0x9B is a one-byte CSI) as <U+009B>.

const CONTROL = /\p{Cc}/gu;

/** `text` with every control character replaced by a visible stand-in; nothing else changes. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (ch) => {
    const code = ch.codePointAt(0)!;
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return '^?';
    return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
  });
}

/** What a keyboard or a paste may add to the line being typed: printable text only. */
export function typedText(data: string): string {
  return data.replace(CONTROL, '');
}

/**
 * The line being typed in the terminal: characters added at the end, Backspace removes the last
 * one (a whole code point, so an emoji is not cut in half).
 */
export class LineBuffer {
  private chars: string[] = [];

  get text(): string {
    return this.chars.join('');
  }

  /** Adds printable text; returns what was added (for echoing). */
  add(data: string): string {
    const text = typedText(data);
    this.chars.push(...text);
    return text;
  }

  /** Removes the last character; returns it, or undefined when the line was empty. */
  backspace(): string | undefined {
    return this.chars.pop();
  }

  /** Returns the line and starts a new one. */
  take(): string {
    const line = this.text;
    this.chars = [];
    return line;
  }
}

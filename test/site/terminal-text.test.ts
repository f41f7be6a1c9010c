// The chat terminal's text handling (site/src/client/demos/terminal-text.ts): whatever a chat user
// or a program on the chat's port sends, no control character reaches xterm.js, where it would
// run as a terminal command (clear the screen, move the cursor, retitle the window).
import { describe, expect, it } from 'vitest';
import { LineBuffer, terminalSafe, typedText } from '../../site/src/client/demos/terminal-text.ts';

describe('terminalSafe', () => {
  it('shows ESC, BEL, DEL and the other C0 controls in caret notation', () => {
    expect(terminalSafe('a\u001b[2Jb\u0007c\u007fd\u0000')).toBe('a^[[2Jb^Gc^?d^@');
    expect(terminalSafe('\u001b]0;owned\u0007')).toBe('^[]0;owned^G');
  });

  it('shows C1 controls (the one-byte CSI 0x9B among them) by their code', () => {
    expect(terminalSafe('x\u009b31my')).toBe('x<U+009B>31my');
    expect(terminalSafe('\u0085')).toBe('<U+0085>');
  });

  it('leaves text, markup and emoji alone', () => {
    const text = 'alice: <img src=x onerror=alert(1)> & 🚀 é 中文';
    expect(terminalSafe(text)).toBe(text);
  });

  it('leaves nothing a terminal would interpret', () => {
    for (let code = 0; code < 0xa0; code++) {
      const out = terminalSafe(`[${String.fromCharCode(code)}]`);
      expect(/\p{Cc}/u.test(out)).toBe(false);
    }
  });
});

describe('LineBuffer', () => {
  it('adds printable text only, and Backspace removes a whole code point', () => {
    const line = new LineBuffer();
    expect(line.add('hi 🚀')).toBe('hi 🚀');
    expect(line.add('\u001b[A')).toBe('[A'); // the ESC of an arrow key never enters a line
    expect(line.backspace()).toBe('A');
    expect(line.backspace()).toBe('[');
    expect(line.backspace()).toBe('🚀');
    expect(line.text).toBe('hi ');
    expect(line.take()).toBe('hi ');
    expect(line.text).toBe('');
    expect(line.backspace()).toBeUndefined();
  });

  it('typedText drops tabs and newlines as well', () => {
    expect(typedText('a\tb\nc\rd')).toBe('abcd');
  });
});

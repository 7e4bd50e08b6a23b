import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { recordedCommand, shellQuote } from '../../trainer/shell-quote.ts';

/** The words a real POSIX shell reads from `line`. */
const wordsOf = (line: string): string[] => execFileSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' }).split('\0').slice(0, -1);

describe('the recorded command', () => {
  const words = ['--data', 'data/blood cells', '--group-pattern', '^_(\\d+)_', '--name', "it's", '--version', '2025-06-03.1', '--x', '', '--y', '$HOME`id`*', '--z', 'a\nb'];

  it('reads back in a shell as the words that were typed', () => {
    expect(wordsOf(words.map(shellQuote).join(' '))).toEqual(words);
  });

  it('leaves plain words as they are and quotes the rest', () => {
    expect(recordedCommand('npm run train --', ['--data', 'data/sample', '--group-pattern', '^_(\\d+)_', '--epochs', '30'])).toBe("npm run train -- --data data/sample --group-pattern '^_(\\d+)_' --epochs 30");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });
});

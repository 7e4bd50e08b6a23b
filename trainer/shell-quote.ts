/**
 * One word as a POSIX shell reads it back: as it is when it holds nothing the shell would act on,
 * otherwise in single quotes (a quote inside becomes '\'').
 *
 * @example
 * shellQuote('^_(\\d+)_'); // "'^_(\\d+)_'"
 * shellQuote('data/blood cells'); // "'data/blood cells'"
 */
export function shellQuote(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command a person typed, from its words, so that pasting it in a shell runs it again: the
 * manifest and the training report record it this way.
 *
 * @example
 * recordedCommand('npm run train --', ['--group-pattern', '^_(\\d+)_']); // "npm run train -- --group-pattern '^_(\\d+)_'"
 */
export function recordedCommand(prefix: string, words: string[]): string {
  return [prefix, ...words.map(shellQuote)].join(' ');
}

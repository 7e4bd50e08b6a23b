/**
 * Errors a user can fix: bad paths, bad flags, unusable datasets. The CLI prints only
 * the message (no stack unless --verbose) and exits non-zero; anything else is a bug.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, readonly exitCode = 2) {
    super(message);
  }
}

/** The dataset folder or its contents cannot be used as given. */
export class DatasetError extends UserError {
  override name = 'DatasetError';
}

/** A flag has a value the trainer cannot use. */
export class FlagError extends UserError {
  override name = 'FlagError';
  constructor(flag: string, value: unknown, fix: string) {
    super(`--${flag} ${JSON.stringify(value)} is not valid: ${fix}`);
  }
}

/** A model version folder is missing, incomplete or does not match its manifest. */
export class ModelError extends UserError {
  override name = 'ModelError';
}

/** Quantising cost more accuracy than allowed. */
export class QuantizationError extends UserError {
  override name = 'QuantizationError';
}

/** The run was interrupted (Ctrl-C) after writing a checkpoint. */
export class InterruptedError extends UserError {
  override name = 'InterruptedError';
  constructor(message: string) {
    super(message, 130);
  }
}

/** A CLI's last word on an error: the message alone for what the user can fix, else a hint at --verbose. */
export function exitWithError(err: Error, verbose: boolean): never {
  if (err instanceof UserError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (verbose) process.stderr.write(`${err.stack}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(verbose ? `${err.stack}\n` : `internal error: ${err.message} (run with --verbose for the stack trace)\n`);
  process.exit(1);
}

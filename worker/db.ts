/**
 * The part of D1 the Worker uses, so the Node scripts can pass wrangler's platform proxy of
 * the same local database (`D1Database` satisfies it).
 */
interface Statement {
  bind(...values: unknown[]): Statement;
  run(): Promise<{ meta: { changes?: number; last_row_id?: number } }>;
  first<T>(): Promise<T | null>;
  all<T>(): Promise<{ results: T[] }>;
}

export interface Database {
  prepare(sql: string): Statement;
  batch(statements: Statement[]): Promise<unknown[]>;
}

/** Whether a D1 error is a UNIQUE constraint violation (the message is all D1 gives). */
export const isUniqueViolation = (error: unknown) => /UNIQUE constraint failed/i.test(String((error as Error)?.message));

import { createMiddleware } from 'hono/factory';
import { findActiveToken, type Device } from './devices.ts';
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import { constantTimeEqual, hashToken, tokenIdOf } from './tokens.ts';

export type AppEnv = { Bindings: Env; Variables: { device: Device } };

// Compared against when no row matches, so unknown and wrong tokens take the same path.
const NO_MATCH = '0'.repeat(64);

/** Every `/v1` route: a valid, unrevoked bearer token, else 401. */
export const requireToken = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError('send the device token as "Authorization: Bearer <token>"');
  const token = match[1];
  const tokenId = tokenIdOf(token);
  const row = tokenId ? await findActiveToken(c.env.DB, tokenId) : null;
  const presented = await hashToken(token);
  const valid = constantTimeEqual(row?.tokenHash ?? NO_MATCH, presented) && row !== null;
  if (!valid) throw new UnauthorizedError('the bearer token is unknown or revoked');
  c.set('device', row.device);
  await next();
});

/** Admin routes: the token must belong to an admin device, else 403. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get('device')?.admin) throw new ForbiddenError('this route needs an admin token; device tokens can only classify and read models');
  await next();
});

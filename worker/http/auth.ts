import { createMiddleware } from 'hono/factory';
import type { Device } from '../devices/store.ts';
import { HttpError } from '../errors.ts';
import { tokenCacheMs, verifyToken } from '../devices/token-cache.ts';
import { tokenIdOf } from '../devices/tokens.ts';

export type AppEnv = { Bindings: Env; Variables: { device: Device; tokenId: string } };

/** Every `/v1` route: a valid, unrevoked bearer token, else 401. */
export const requireToken = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new HttpError('unauthorized', 'send the device token as "Authorization: Bearer <token>"');
  const token = match[1];
  const device = await verifyToken(c.env.DB, token, tokenCacheMs(c.env));
  if (!device) throw new HttpError('unauthorized', 'the bearer token is unknown or revoked');
  c.set('device', device);
  c.set('tokenId', tokenIdOf(token)!);
  await next();
});

/** Admin routes: the token must belong to an admin device, else 403. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get('device')?.admin) throw new HttpError('forbidden', 'this route needs an admin token; device tokens can only classify and read models');
  await next();
});

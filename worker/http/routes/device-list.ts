import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireAdmin, type AppEnv } from '../auth.ts';
import { errorResponses } from '../schemas.ts';

const DeviceSchema = z
  .object({
    name: z.string(),
    admin: z.boolean(),
    pins: z.array(z.string()).openapi({ description: 'versions the device may pin with X-Model-Version; "*" for any' }),
    createdAt: z.string().openapi({ description: 'when its active token was issued' }),
  })
  .openapi('Device');

const DeviceListSchema = z.object({ devices: z.array(DeviceSchema) }).openapi('DeviceList');

const listRoute = createRoute({
  method: 'get',
  path: '/v1/devices',
  operationId: 'listDevices',
  summary: 'Devices with an active token, newest first (admin); tokens are never shown again',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  responses: { 200: { description: 'active devices', content: { 'application/json': { schema: DeviceListSchema } } }, ...errorResponses(401, 403) },
});

interface DeviceRow {
  name: string;
  admin: number;
  pins: string;
  created_at: string;
}

/** Active devices (revoked rows stay in D1 for the audit trail but are not listed). */
async function listDevices(db: D1Database): Promise<z.infer<typeof DeviceSchema>[]> {
  const { results } = await db
    .prepare('SELECT name, admin, pins, created_at FROM devices WHERE revoked_at IS NULL ORDER BY created_at DESC, name')
    .all<DeviceRow>();
  return results.map((row) => ({ name: row.name, admin: row.admin === 1, pins: JSON.parse(row.pins) as string[], createdAt: row.created_at }));
}

export const deviceListRoutes = new OpenAPIHono<AppEnv>().openapi(listRoute, async (c) => c.json({ devices: await listDevices(c.env.DB) }, 200));

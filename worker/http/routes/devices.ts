import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { requireAdmin, type AppEnv } from '../auth.ts';
import { createDevice, revokeDevice, setDevicePins } from '../../devices/store.ts';
import { forgetDevice } from '../../devices/token-cache.ts';
import { CreateDeviceSchema, DeviceNameParamSchema, DevicePinsSchema, DeviceTokenSchema, errorResponses } from '../schemas.ts';

const createDeviceRoute = createRoute({
  method: 'post',
  path: '/v1/devices',
  operationId: 'createDevice',
  summary: 'Provision a device (admin): returns its token, shown this once',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: { body: { required: true, content: { 'application/json': { schema: CreateDeviceSchema } } } },
  responses: {
    201: { description: 'created', content: { 'application/json': { schema: DeviceTokenSchema } } },
    ...errorResponses(400, 401, 403, 409, 415),
  },
});

const revokeDeviceRoute = createRoute({
  method: 'delete',
  path: '/v1/devices/{name}',
  operationId: 'revokeDevice',
  summary: "Revoke a device's token (admin)",
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: { params: DeviceNameParamSchema },
  responses: { 204: { description: 'revoked' }, ...errorResponses(401, 403, 404) },
});

const pinsRoute = createRoute({
  method: 'patch',
  path: '/v1/devices/{name}',
  operationId: 'setDevicePins',
  summary: 'Set the versions a device may pin with X-Model-Version (admin)',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: { params: DeviceNameParamSchema, body: { required: true, content: { 'application/json': { schema: DevicePinsSchema } } } },
  responses: {
    200: { description: 'updated', content: { 'application/json': { schema: DevicePinsSchema.extend({ name: DeviceNameParamSchema.shape.name }) } } },
    ...errorResponses(400, 401, 403, 404, 415),
  },
});

export const deviceRoutes = new OpenAPIHono<AppEnv>()
  .openapi(createDeviceRoute, async (c) => {
    const { name, admin, pins } = c.req.valid('json');
    return c.json(await createDevice(c.env.DB, name, admin, pins), 201);
  })
  .openapi(pinsRoute, async (c) => {
    const updated = await setDevicePins(c.env.DB, c.req.valid('param').name, c.req.valid('json').pins);
    forgetDevice(updated.name);
    return c.json(updated, 200);
  })
  .openapi(revokeDeviceRoute, async (c) => {
    const { name } = c.req.valid('param');
    await revokeDevice(c.env.DB, name);
    forgetDevice(name);
    return c.body(null, 204);
  });

import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { requireAdmin, type AppEnv } from '../auth.ts';
import { RoutingChangeSchema, RoutingResultSchema, RoutingStateSchema } from '../../rollout/schemas.ts';
import { currentRouting, rollbackRouting, routingHistory, setRouting } from '../../rollout/routing-store.ts';
import { errorResponses } from '../schemas.ts';
import { rememberRouting } from '../../rollout/version-choice.ts';

const getRoutingRoute = createRoute({
  method: 'get',
  path: '/v1/routing',
  operationId: 'getRouting',
  summary: 'The routing in force (split, shadow, stickiness) and its history (admin)',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  responses: { 200: { description: 'in force and history', content: { 'application/json': { schema: RoutingStateSchema } } }, ...errorResponses(401, 403) },
});

const putRoutingRoute = createRoute({
  method: 'put',
  path: '/v1/routing',
  operationId: 'setRouting',
  summary: 'Change the routing (admin); a refused change leaves the routing in force as it is',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: { body: { required: true, content: { 'application/json': { schema: RoutingChangeSchema } } } },
  responses: {
    200: { description: 'now in force, and what it replaced', content: { 'application/json': { schema: RoutingResultSchema } } },
    ...errorResponses(400, 401, 403, 409, 415, 422),
  },
});

const rollbackRoute = createRoute({
  method: 'post',
  path: '/v1/routing/rollback',
  operationId: 'rollbackRouting',
  summary: 'Restore the routing in force before the current one (admin)',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  responses: {
    200: { description: 'restored, and what it replaced', content: { 'application/json': { schema: RoutingResultSchema } } },
    ...errorResponses(401, 403, 409, 422),
  },
});

export const routingRoutes = new OpenAPIHono<AppEnv>()
  .openapi(getRoutingRoute, async (c) => {
    const routing = await currentRouting(c.env.DB);
    rememberRouting(routing);
    return c.json({ routing, history: await routingHistory(c.env.DB) }, 200);
  })
  .openapi(putRoutingRoute, async (c) => {
    const result = await setRouting(c.env.DB, c.env.MODELS, c.req.valid('json'), c.get('device').name);
    rememberRouting(result.routing);
    return c.json(result, 200);
  })
  .openapi(rollbackRoute, async (c) => {
    const result = await rollbackRouting(c.env.DB, c.env.MODELS, c.get('device').name);
    rememberRouting(result.routing);
    return c.json(result, 200);
  });

import { cursorParam, limitParam, pageSchema } from '../../http/pagination.ts';
import { defineRoute, type Route } from '../../http/registry.ts';
import { z } from 'zod';
import { userSchema } from '../users/schemas.ts';
import type { UserService } from '../users/service.ts';

export function adminRoutes(users: UserService): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/admin/users',
      summary: 'All users, newest first (admin only)',
      tag: 'admin',
      // Function-level authorization: the role is checked on every call, from the database (E3).
      access: 'admin',
      query: z.strictObject({ limit: limitParam(50), cursor: cursorParam }),
      responses: {
        200: { description: 'A page of users', schema: pageSchema(userSchema) },
        403: { description: 'The caller is not an admin' },
      },
      handler: async ({ query }) => ({ status: 200, body: await users.list(query.limit, query.cursor) }),
    }),
  ];
}

import { defineRoute, type Route } from '../../http/registry.ts';
import { userSchema } from './schemas.ts';
import type { UserService } from './service.ts';

export function userRoutes(users: UserService): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/users/me',
      summary: 'The signed-in user',
      tag: 'users',
      responses: { 200: { description: 'The caller', schema: userSchema } },
      handler: async ({ user }) => ({ status: 200, body: await users.profile(user.id) }),
    }),
  ];
}

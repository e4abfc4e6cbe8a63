import { securityEvent } from '../../logger.ts';
import { HttpError } from '../../http/errors.ts';
import { defineRoute, type Route } from '../../http/registry.ts';
import { userSchema } from '../users/schemas.ts';
import { changePasswordBody, loginBody, logoutBody, refreshBody, registerBody, tokenPairSchema } from './schemas.ts';
import type { AuthService } from './service.ts';

const invalidCredentials = () => new HttpError(401, 'Invalid e-mail or password');

export function authRoutes(auth: AuthService, passwords: { minLength: number }): Route[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/auth/register',
      summary: 'Create an account',
      tag: 'auth',
      access: 'public',
      authLimited: true,
      body: registerBody(passwords.minLength),
      responses: {
        201: { description: 'The new user', schema: userSchema },
        409: { description: 'The address cannot be registered' },
      },
      handler: async ({ body, req }) => {
        const user = await auth.register(body);
        securityEvent(req.log, 'auth.register', { userId: user.id });
        return { status: 201, body: user };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/login',
      summary: 'Exchange e-mail and password for a token pair',
      tag: 'auth',
      access: 'public',
      authLimited: true,
      body: loginBody,
      throttleKey: ({ body }) => `login:${body.email}`,
      responses: {
        200: { description: 'Access and refresh token', schema: tokenPairSchema },
        401: { description: 'Unknown e-mail or wrong password (indistinguishable)' },
      },
      handler: async ({ body, req, res }) => {
        const result = await auth.login(body.email, body.password);
        if (result === undefined) {
          res.locals.credentialFailure = true;
          securityEvent(req.log, 'auth.login.failure', {});
          throw invalidCredentials();
        }
        securityEvent(req.log, 'auth.login.success', { userId: result.userId });
        return { status: 200, body: result.pair };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/refresh',
      summary: 'Rotate a refresh token into a new token pair',
      tag: 'auth',
      access: 'public',
      authLimited: true,
      body: refreshBody,
      responses: {
        200: { description: 'A new token pair; the presented refresh token is spent', schema: tokenPairSchema },
        401: { description: 'Unknown, expired, revoked or reused refresh token' },
      },
      handler: async ({ body, req }) => {
        const outcome = await auth.refresh(body.refreshToken);
        if (outcome.kind === 'ok') {
          securityEvent(req.log, 'auth.refresh', {});
          return { status: 200, body: outcome.pair };
        }
        if (outcome.kind === 'reused') securityEvent(req.log, 'auth.refresh.reuse', { userId: outcome.userId });
        else securityEvent(req.log, 'auth.refresh.failure', {});
        throw new HttpError(401, 'The refresh token is not valid');
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/logout',
      summary: 'Revoke the session of a refresh token',
      tag: 'auth',
      body: logoutBody,
      responses: { 204: { description: 'The session is revoked (also when it already was)' } },
      handler: async ({ body, user, req }) => {
        await auth.logout(user, body.refreshToken);
        securityEvent(req.log, 'auth.logout', { userId: user.id });
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/auth/password',
      summary: 'Change the password; ends every other session',
      tag: 'auth',
      authLimited: true,
      body: changePasswordBody(passwords.minLength),
      throttleKey: ({ user }) => `password:${user.id}`,
      responses: { 204: { description: 'Changed; other sessions are revoked' } },
      handler: async ({ body, user, req, res }) => {
        const result = await auth.changePassword(user, body.currentPassword, body.newPassword);
        if (result === 'wrong-password') {
          res.locals.credentialFailure = true;
          securityEvent(req.log, 'auth.password.failure', { userId: user.id });
          throw new HttpError(400, 'The current password is incorrect', {
            errors: [{ location: 'body', path: 'currentPassword', message: 'is incorrect', code: 'incorrect' }],
          });
        }
        securityEvent(req.log, 'auth.password.changed', { userId: user.id });
        return { status: 204 };
      },
    }),
  ];
}

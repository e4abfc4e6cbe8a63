/** What an account may do; only the admin:create command grants 'admin' (D8). */
export type Role = 'user' | 'admin';

/** The caller named by a verified access token: set by authentication, read by routes (E1). */
export interface AuthUser {
  id: string;
  role: Role;
  sessionId: string;
}

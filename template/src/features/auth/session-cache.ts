import type { Role } from '../../principal.ts';

export interface SessionCache {
  get(sessionId: string): Role | undefined;
  /** For `set`: a lookup that started before the latest `revoked()` must not re-cache a dead session. */
  generation(): number;
  set(sessionId: string, role: Role, generation: number): void;
  /** After any revocation commits: this instance stops trusting every cached session (D6). */
  revoked(): void;
}

/** Bounded in size and time: another instance's revocation takes effect here within `ttlMs` (D6). */
export function createSessionCache(ttlMs: number, maxEntries = 10_000): SessionCache {
  const entries = new Map<string, { role: Role; until: number }>();
  let generation = 0;
  return {
    get(sessionId) {
      const entry = entries.get(sessionId);
      if (entry === undefined) return undefined;
      if (entry.until > performance.now()) return entry.role;
      entries.delete(sessionId);
      return undefined;
    },
    generation: () => generation,
    set(sessionId, role, since) {
      if (ttlMs === 0 || since !== generation) return;
      // Oldest first: a flood of sessions evicts old entries rather than growing the heap (I4).
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(sessionId, { role, until: performance.now() + ttlMs });
    },
    revoked() {
      generation += 1;
      entries.clear();
    },
  };
}

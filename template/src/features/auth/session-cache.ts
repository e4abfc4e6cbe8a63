import type { Role } from './tokens.ts';

export interface SessionCache {
  /** The role of a session checked alive less than the TTL ago, else undefined. */
  get(sessionId: string): Role | undefined;
  /** A token for `set`: a set that started before the latest `revoked()` is dropped. */
  generation(): number;
  set(sessionId: string, role: Role, generation: number): void;
  /** Called after any revocation commits: this instance stops trusting every cached session. */
  revoked(): void;
}

/**
 * Per-instance memory of sessions found alive, so that ordinary requests skip the liveness query.
 * Bounded in size and time: another instance's revocation takes effect here within `ttlMs` (D6).
 */
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

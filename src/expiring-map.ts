/**
 * A Map whose entries expire, as Redis keys with a TTL do: the in-process
 * stand-ins (session cache, rate limiter) use it so that they behave like
 * their Redis counterparts. Expired entries vanish on read and are swept once
 * a minute so an idle process does not hold them.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {
    const sweep = setInterval(() => {
      const t = this.now();
      for (const [key, entry] of this.entries) if (entry.expiresAt <= t) this.entries.delete(key);
    }, 60_000);
    sweep.unref();
  }

  /** The live entry, with when it expires; undefined if absent or expired. */
  entry(key: string): { value: V; expiresAt: number } | undefined {
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit;
  }

  get(key: string): V | undefined {
    return this.entry(key)?.value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  set(key: string, value: V, ttlMs: number): { value: V; expiresAt: number } {
    const entry = { value, expiresAt: this.now() + Math.max(1, Math.ceil(ttlMs)) };
    this.entries.set(key, entry);
    return entry;
  }
}

/**
 * A push-based async iterator: producers `push`, one consumer iterates.
 *
 * Written out instead of an async generator because a generator cannot be
 * stopped while it awaits: `return()` on a generator parked in `await next()`
 * waits for the next event, which for a quiet user may be never, and the Redis
 * subscription would leak. Here `return()` settles at once and runs `onClose`.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<(result: IteratorResult<T>) => void> = [];
  private closed = false;
  private readonly onClose: Array<() => void> = [];

  push(value: T): void {
    if (this.closed) return;
    const waiter = this.waiting.shift();
    if (waiter) waiter({ value, done: false });
    else this.buffer.push(value);
  }

  /** Ends the stream after what is already buffered has been read. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter({ value: undefined, done: true });
    for (const fn of this.onClose.splice(0)) fn();
  }

  /** Registers cleanup (unsubscribe, timers); runs once, when the stream ends for any reason. */
  finally(fn: () => void): void {
    if (this.closed) fn();
    else this.onClose.push(fn);
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

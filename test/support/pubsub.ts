import type { PubSub } from '../../src/pubsub.js';
import type { Services } from '../../src/services.js';

/**
 * Wraps some of a running server's pub/sub methods (the server runs in this
 * process), to put an outage or a delay exactly where a test needs it. The
 * methods are replaced on the object itself, which every part of the server
 * holds. Returns the undo; call it in `finally`.
 */
export function interceptPubSub(services: Services, wrap: (real: PubSub) => Partial<PubSub>): () => void {
  const pubsub = services.pubsub;
  const original: PubSub = { ...pubsub };
  Object.assign(pubsub, wrap(original));
  return () => {
    Object.assign(pubsub, original);
  };
}

/**
 * Holds the next stream's set-up until `until` settles, either just before its
 * subscription (the gap between authentication and subscription, where a
 * revocation must still be delivered) or just after it is live (the window in
 * which a client can leave before the server has answered).
 */
export function holdSubscription(
  services: Services,
  until: () => Promise<unknown>,
  at: 'before-subscribe' | 'after-subscribe',
): () => void {
  let held = false;
  const hold = async (): Promise<void> => {
    if (held) return;
    held = true;
    await until();
  };
  return interceptPubSub(services, (real) => ({
    async subscribe(topic, key, onMessage) {
      if (at === 'before-subscribe') await hold();
      const unsubscribe = await real.subscribe(topic, key, onMessage);
      if (at === 'after-subscribe') await hold();
      return unsubscribe;
    },
  }));
}

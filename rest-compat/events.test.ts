import { describe, expect, it } from 'vitest';
import { RevocationNotice } from '../src/streams/notice.js';
import { numberedDelivery } from './events.js';

const notice = new RevocationNotice({ userId: 'u', seq: 3, sessionIds: ['a', 'b', 'c', 'd'], reason: 'LOGOUT_ALL', revokedAt: '2026-12-01T12:00:00.000Z' });

/** The `id:` and session of each event in the chunks, in order, and whether it says `current`. */
async function sent(sessionId: string, firstId: number): Promise<{ events: string[]; nextId: number }> {
  const { chunks, nextId } = await numberedDelivery(notice.deliveryFor(sessionId), firstId);
  const text = Buffer.concat(chunks).toString('utf8');
  const events = text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const id = /^id: (\d+)$/m.exec(block)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { sessionId: string; current: boolean };
      return `${id} ${data.sessionId}${data.current ? ' current' : ''}`;
    });
  return { events, nextId };
}

describe('numberedDelivery()', () => {
  it('numbers the events a stream sends consecutively, whichever is its own, and puts its own last', async () => {
    expect(await sent('nobody', 2)).toEqual({ events: ['2 a', '3 b', '4 c', '5 d'], nextId: 6 });
    expect(await sent('b', 2)).toEqual({ events: ['2 a', '3 c', '4 d', '5 b current'], nextId: 6 });
    expect(await sent('a', 7)).toEqual({ events: ['7 b', '8 c', '9 d', '10 a current'], nextId: 11 });
    expect(await sent('d', 9)).toEqual({ events: ['9 a', '10 b', '11 c', '12 d current'], nextId: 13 });
  });
});

import { describe, expect, it } from 'vitest';
import { deliveryEvents, RevocationNotice, sliceAround } from './notice.js';

const notice = (): RevocationNotice =>
  new RevocationNotice({ userId: 'u', seq: 7, sessionIds: ['a', 'bé', 'c', 'd'], reason: 'LOGOUT_ALL', revokedAt: '2026-12-01T12:00:00.000Z' });
const lines = (event: { sessionId: string; current: boolean }): string => `data: ${event.sessionId}${event.current ? '!' : ''}\n\n`;
const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString('utf8');

describe('RevocationNotice', () => {
  it('makes every event once, and each session\'s own event once', () => {
    const n = notice();
    expect(n.events.map((e) => [e.sessionId, e.current])).toEqual([
      ['a', false],
      ['bé', false],
      ['c', false],
      ['d', false],
    ]);
    expect(n.ownEvent(1)).toBe(n.ownEvent(1));
    expect(n.ownEvent(1)).toMatchObject({ sessionId: 'bé', current: true, reason: 'LOGOUT_ALL' });
    expect(n.deliveryFor('c')).toEqual({ notice: n, own: 2 });
    expect(n.deliveryFor('nobody').own).toBe(-1);
  });

  it('puts a stream\'s own event last', () => {
    const n = notice();
    expect(deliveryEvents(n.deliveryFor('bé')).map((e) => [e.sessionId, e.current])).toEqual([
      ['a', false],
      ['c', false],
      ['d', false],
      ['bé', true],
    ]);
    expect(deliveryEvents(n.deliveryFor('x')).map((e) => e.sessionId)).toEqual(['a', 'bé', 'c', 'd']);
  });

  it('renders its events once per variant, and a stream sends slices that leave out its own', async () => {
    const n = notice();
    let renders = 0;
    const counted = (event: { sessionId: string; current: boolean }): string => {
      renders += 1;
      return lines(event);
    };
    const shared = await n.rendered('v1', counted);
    expect(await n.rendered('v1', counted)).toBe(shared);
    expect(renders).toBe(4);
    expect(text(sliceAround(shared, -1))).toBe('data: a\n\ndata: bé\n\ndata: c\n\ndata: d\n\n');
    expect(text(sliceAround(shared, 1))).toBe('data: a\n\ndata: c\n\ndata: d\n\n');
    expect(text(sliceAround(shared, 0))).toBe('data: bé\n\ndata: c\n\ndata: d\n\n');
    expect(text(sliceAround(shared, 3))).toBe('data: a\n\ndata: bé\n\ndata: c\n\n');
    await n.rendered('v2', counted);
    expect(renders).toBe(8);
    expect(await n.renderedOwn('v1', 1, counted)).toBe('data: bé!\n\n');
    expect(await n.renderedOwn('v1', 1, counted)).toBe('data: bé!\n\n');
    expect(renders).toBe(9);
  });
});

import { describe, expect, it } from 'vitest';
import { numberedAround, renderOnce, sliceAround } from './shared-chunks.js';

const events = ['a', 'bé', 'c', 'd'].map((name) => ({ name }));
const lines = (event: { name: string }): string => `data: ${event.name}\n\n`;
const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8');

describe('shared chunks', () => {
  it('renders a list once per variant, and a stream leaves out its own event', async () => {
    let renders = 0;
    const counted = (event: { name: string }): string => {
      renders += 1;
      return lines(event);
    };
    const shared = await renderOnce(events, 'v1', counted);
    expect(await renderOnce(events, 'v1', counted)).toBe(shared);
    expect(renders).toBe(4);
    expect(text(sliceAround(shared, -1))).toBe('data: a\n\ndata: bé\n\ndata: c\n\ndata: d\n\n');
    expect(text(sliceAround(shared, 1))).toBe('data: a\n\ndata: c\n\ndata: d\n\n');
    expect(text(sliceAround(shared, 0))).toBe('data: bé\n\ndata: c\n\ndata: d\n\n');
    expect(text(sliceAround(shared, 3))).toBe('data: a\n\ndata: bé\n\ndata: c\n\n');
    await renderOnce(events, 'v2', counted);
    expect(renders).toBe(8);
  });

  it('numbers the events a stream sends consecutively, whichever it leaves out', async () => {
    const ids = async (skip: number, firstId: number) => {
      const { chunks, nextId } = await numberedAround(events, 'numbered', lines, skip, firstId);
      return { text: text(chunks), nextId };
    };
    expect(await ids(-1, 2)).toEqual({ text: 'id: 2\ndata: a\n\nid: 3\ndata: bé\n\nid: 4\ndata: c\n\nid: 5\ndata: d\n\n', nextId: 6 });
    expect(await ids(1, 2)).toEqual({ text: 'id: 2\ndata: a\n\nid: 3\ndata: c\n\nid: 4\ndata: d\n\n', nextId: 5 });
    expect(await ids(0, 7)).toEqual({ text: 'id: 7\ndata: bé\n\nid: 8\ndata: c\n\nid: 9\ndata: d\n\n', nextId: 10 });
    expect(await ids(3, 9)).toEqual({ text: 'id: 9\ndata: a\n\nid: 10\ndata: bé\n\nid: 11\ndata: c\n\n', nextId: 12 });
  });
});

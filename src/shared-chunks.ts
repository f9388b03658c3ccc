/**
 * Stream events rendered to bytes once per instance, not once per stream.
 *
 * A logoutAll of N sessions, each with an open stream, sends N events to each
 * of N streams: at N = 1,000 that is a million events. Rendered per stream
 * (a string per stream, then UTF-8 encoding it), most of the delivery time
 * went into building and encoding the same text a thousand times. Here the
 * events of one message are rendered once, one after the other in one buffer,
 * and a stream sends slices of it: everything but its own event, then its own
 * (the one part that differs, since it says `current: true`).
 */
export interface RenderedEvents {
  /** Every event's text, in order, one after the other. */
  readonly bytes: Buffer;
  /** Event i is `bytes[offsets[i], offsets[i + 1])`. */
  readonly offsets: readonly number[];
}

const rendered = new WeakMap<readonly object[], Map<string, Promise<RenderedEvents>>>();

/**
 * The events rendered with `render`, once per list and `variant` (what else
 * the text depends on: the transport, a GraphQL document and its variables).
 * The list must be shared and never change (src/resolvers/session-events.ts).
 */
export function renderOnce<T extends object>(
  events: readonly T[],
  variant: string,
  render: (event: T, index: number) => string | Promise<string>,
): Promise<RenderedEvents> {
  const byVariant = rendered.get(events) ?? rendered.set(events, new Map()).get(events)!;
  let result = byVariant.get(variant);
  if (!result) {
    result = (async () => {
      const texts: string[] = [];
      for (const [index, event] of events.entries()) {
        const text = render(event, index);
        texts.push(typeof text === 'string' ? text : await text);
      }
      const offsets = [0];
      for (const text of texts) offsets.push(offsets.at(-1)! + Buffer.byteLength(text));
      return { bytes: Buffer.from(texts.join('')), offsets };
    })();
    byVariant.set(variant, result);
  }
  return result;
}

/** The slices of `shared` a stream sends, all but event `skip` (-1: all of them); no copy. */
export function sliceAround(shared: RenderedEvents, skip: number): Buffer[] {
  if (skip === -1) return [shared.bytes];
  const { bytes, offsets } = shared;
  return [bytes.subarray(0, offsets[skip]), bytes.subarray(offsets[skip + 1])].filter((slice) => slice.length > 0);
}

/**
 * All but event `skip`, each after an `id:` line numbered from `firstId`: for
 * an SSE stream that numbers its events per connection. Still no work per
 * event and stream: the streams of one user on an instance usually have seen
 * the same events, so they share `firstId`, and two renders per `firstId`
 * serve every `skip` (the events before it are numbered from `firstId`, those
 * after it one lower, as if numbered from `firstId - 1`).
 */
export async function numberedAround<T extends object>(
  events: readonly T[],
  variant: string,
  render: (event: T) => string,
  skip: number,
  firstId: number,
): Promise<{ chunks: Buffer[]; nextId: number }> {
  const numbered = (from: number): Promise<RenderedEvents> =>
    renderOnce(events, `${variant}#${from}`, (event, index) => `id: ${from + index}\n${render(event)}`);
  const before = await numbered(firstId);
  if (skip === -1) return { chunks: [before.bytes], nextId: firstId + events.length };
  const after = await numbered(firstId - 1);
  const chunks = [before.bytes.subarray(0, before.offsets[skip]), after.bytes.subarray(after.offsets[skip + 1])];
  return { chunks: chunks.filter((chunk) => chunk.length > 0), nextId: firstId + events.length - 1 };
}

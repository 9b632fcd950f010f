/**
 * One shared EventSource on /api/stream, fanned out to the views by message type.
 * The browser reconnects on its own; the header dot shows the connection state.
 *
 * @example
 * const off = onLive('anomaly', (a) => mark(a));
 * off(); // when the view goes away
 */
import type { LiveMessage, LiveMessageType } from '../../engine/src/api/deps.ts';

type DataOf<T extends LiveMessageType> = Extract<LiveMessage, { type: T }>['data'];
type Handler = (data: unknown) => void;

const handlers = new Map<LiveMessageType, Set<Handler>>();
const TYPES: readonly LiveMessageType[] = ['reading', 'score', 'anomaly', 'incident', 'health'];
let source: EventSource | undefined;
let onStatus: (connected: boolean) => void = () => undefined;

export function startLive(statusCallback: (connected: boolean) => void): void {
  onStatus = statusCallback;
  if (source) return;
  source = new EventSource('/api/stream');
  source.onopen = () => onStatus(true);
  source.onerror = () => onStatus(source?.readyState === EventSource.OPEN);
  for (const t of TYPES) {
    source.addEventListener(t, (ev: MessageEvent<string>) => {
      const set = handlers.get(t);
      if (!set?.size) return;
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      for (const fn of set) fn(data);
    });
  }
}

/** Closes the stream (sign-out); `startLive` opens a new one. */
export function stopLive(): void {
  source?.close();
  source = undefined;
  onStatus(false);
}

export function onLive<T extends LiveMessageType>(type: T, fn: (data: DataOf<T>) => void): () => void {
  let set = handlers.get(type);
  if (!set) handlers.set(type, (set = new Set()));
  const h = fn as Handler;
  set.add(h);
  return () => set.delete(h);
}

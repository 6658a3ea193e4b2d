/**
 * The JSON paths of the channel configs: where a gateway's answer or callback keeps a field. Written
 * `messages.0.id`, `messages[0].id` or `$.messages[0].id`; a numeric segment indexes an array.
 */

const SEGMENT = /^[^.[\]\s]+$/;

/** The path's segments, or null when it is not a path (empty segment, unclosed bracket, spaces). */
export function pathSegments(path: string): string[] | null {
  const body = path.startsWith('$') ? path.slice(1).replace(/^\./, '') : path;
  if (body === '') return path.startsWith('$') ? [] : null;
  const dotted = body.replace(/\[(\d+)\]/g, '.$1');
  const parts = dotted.split('.');
  return parts.every((p) => SEGMENT.test(p)) ? parts : null;
}

/** The value at `path` inside `value` (undefined when any step is missing). */
export function valueAt(value: unknown, path: string): unknown {
  const segments = pathSegments(path);
  if (!segments) throw new Error(`not a JSON path: ${JSON.stringify(path)}`);
  let cur: unknown = value;
  for (const s of segments) {
    if (Array.isArray(cur)) cur = /^\d+$/.test(s) ? cur[Number(s)] : undefined;
    else if (cur !== null && typeof cur === 'object') cur = (cur as Record<string, unknown>)[s];
    else return undefined;
  }
  return cur;
}

/** The value at `path` as text: strings as they are, finite numbers in decimal, anything else null. */
export function textAt(value: unknown, path: string): string | null {
  const v = valueAt(value, path);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  return null;
}

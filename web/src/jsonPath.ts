/** A place in the text: the characters from `start` to `end`, on line `line` (from 1). */
export interface TextPlace {
  start: number;
  end: number;
  line: number;
}

/**
 * Where an API path (`steps.1.wait.days`) is in JSON text: the character range of the member's key (or of
 * the array element), so the editor can select it and say its line. Null when the text does not parse
 * that far or the path is not there (a missing field is reported at its parent's path, which is).
 */
function locatePath(text: string, path: string): TextPlace | null {
  const parts = path === '' ? [] : path.split('.');
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  // Skips one value; false when the text is not JSON there.
  const skipValue = (): boolean => {
    ws();
    const c = text[i];
    if (c === '"') {
      skipString();
      return i <= text.length;
    }
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return true;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') return false;
          skipString();
          ws();
          if (text[i] !== ':') return false;
          i++;
        }
        if (!skipValue()) return false;
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return true;
        }
        return false;
      }
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  let start = 0;
  let end = 0;
  for (const part of parts) {
    ws();
    if (text[i] === '{') {
      i++;
      let found = false;
      for (;;) {
        ws();
        if (text[i] === '}') return null;
        if (text[i] !== '"') return null;
        const keyStart = i;
        skipString();
        let key: unknown;
        try {
          key = JSON.parse(text.slice(keyStart, i));
        } catch {
          return null;
        }
        ws();
        if (text[i] !== ':') return null;
        i++;
        if (key === part) {
          start = keyStart;
          end = i - 1;
          found = true;
          break;
        }
        if (!skipValue()) return null;
        ws();
        if (text[i] === ',') i++;
      }
      if (!found) return null;
    } else if (text[i] === '[') {
      const index = Number(part);
      if (!Number.isInteger(index) || index < 0) return null;
      i++;
      for (let k = 0; k < index; k++) {
        if (!skipValue()) return null;
        ws();
        if (text[i] !== ',') return null;
        i++;
      }
      ws();
      if (text[i] === ']') return null;
      start = i;
      const from = i;
      if (!skipValue()) return null;
      end = Math.min(i, from + 1);
      i = from;
    } else return null;
  }
  if (parts.length === 0) return null;
  return { start, end, line: text.slice(0, start).split('\n').length };
}

/**
 * Where an API path is in the text: the path itself, or the nearest enclosing one that is there. The API
 * names array elements both ways (`steps.0.send.template` from the schema, `products[0]` or
 * `lowScore.assignees[0]` from the checks beyond it): both are looked up as dotted paths.
 */
export function locateNearest(text: string, path: string): TextPlace | null {
  const parts = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  for (let n = parts.length; n > 0; n--) {
    const at = locatePath(text, parts.slice(0, n).join('.'));
    if (at) return at;
  }
  return null;
}

/**
 * STOP words: an inbound SMS or messenger message that is one of these (case, spaces, punctuation and a
 * leading `/` ignored) withdraws the contact's consent for that channel. English (the carriers' CTIA
 * keywords), Ukrainian and Russian.
 */
export const STOP_WORDS = {
  en: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'OPT OUT', 'REVOKE'],
  uk: ['СТОП', 'ВІДПИСАТИСЯ', 'ВІДПИСАТИСЬ', 'ВІДПИСКА', 'ВІДПИСАТИ', 'ВІДМОВА', 'ЗУПИНИТИ'],
  ru: ['СТОП', 'ОТПИСАТЬСЯ', 'ОТПИСКА', 'ОТПИСАТЬ', 'ОТКАЗ', 'ОСТАНОВИТЬ', 'ХВАТИТ'],
} as const;

/** Upper case, without whitespace, punctuation, symbols or marks: `" Stop! "` → `STOP`. */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFC')
    .toUpperCase()
    .replace(/[\s\p{P}\p{S}\p{Cf}]+/gu, '');
}

const NORMALIZED = new Set(
  Object.values(STOP_WORDS)
    .flat()
    .map((w) => normalizeKeyword(w)),
);

/** Whether the whole message is a STOP word: `stop`, ` S T O P `, `Відписатися.`, `/stop`, `opt-out`. */
export function isStopText(text: string): boolean {
  if (text.length > 64) return false;
  return NORMALIZED.has(normalizeKeyword(text));
}

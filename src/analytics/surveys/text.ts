/**
 * The text side of survey answers: which language a "why" answer is in, its words, and their stems.
 * Stems come from nlp.js's Snowball-style stemmers (English Porter2, Russian Snowball, and its Ukrainian
 * port), so "доставка", "доставку" and "доставки" count as one word. Pure: strings in, strings out (the
 * stemmers keep a memo of the words they have seen, bounded below).
 */
import nlpEn from '@nlpjs/lang-en-min';
import nlpRu from '@nlpjs/lang-ru';
import nlpUk from '@nlpjs/lang-uk';
import { invalid } from '../../shared/errors.js';
import { STEM_CORRECTIONS, STOP_WORDS } from './lexicon.js';

export type SurveyLanguage = 'uk' | 'ru' | 'en';
export const SURVEY_LANGUAGES: readonly SurveyLanguage[] = ['uk', 'ru', 'en'];

/** One word of an answer. */
export interface Token {
  /** The word as written, in lower case, with any apostrophe written as `'`. */
  surface: string;
  /** Its stem in the answer's language (after ё → е and the corrections of lexicon.ts). */
  stem: string;
  /** A stop word, or a single letter: left out of themes. */
  stop: boolean;
  /** Which clause of the answer the word is in (punctuation ends a clause): phrases stay within one. */
  clause: number;
}

/**
 * The survey language of a locale tag: `uk`, `uk-UA`, `uk_UA` → 'uk' (and `ua`, the country code people
 * often put for Ukrainian), `ru-RU` → 'ru', `en-GB` → 'en'; null for none or another language.
 */
export function languageOfTag(tag: string | null | undefined): SurveyLanguage | null {
  if (!tag) return null;
  const language = tag.trim().toLowerCase().split(/[-_]/)[0];
  if (language === 'uk' || language === 'ua') return 'uk';
  if (language === 'ru' || language === 'en') return language;
  return null;
}

/**
 * The language of a text from its letters alone, for answers whose contact has no locale: mostly Cyrillic
 * is Ukrainian when it has more of the letters only Ukrainian uses (і ї є ґ) than of those only Russian
 * uses (ы э ъ ё), otherwise Russian; anything else is English. A short Ukrainian answer with none of
 * і ї є ґ ("Все добре") reads as Russian: the stems of such words mostly agree across the two.
 */
export function detectLanguage(text: string): SurveyLanguage {
  const l = letterCounts(text);
  if (l.cyrillic === 0 || l.cyrillic <= l.latin) return 'en';
  return l.ukrainianOnly > l.russianOnly ? 'uk' : 'ru';
}

/**
 * The language to read an answer in: the contact's locale, unless the answer's letters say otherwise
 * — Cyrillic under an English locale, Latin under a Cyrillic one, or Ukrainian-only letters without
 * Russian-only ones under a Russian locale (and the other way round). A contact's locale is what the
 * shop writes to them in, not what they answer in: customers with a Ukrainian locale often answer in
 * Russian, and a Russian answer stemmed by the Ukrainian rules misses the Russian lexicon.
 */
export function answerLanguage(text: string, locale?: string | null): SurveyLanguage {
  const given = languageOfTag(locale);
  if (given === null) return detectLanguage(text);
  const l = letterCounts(text);
  if (l.cyrillic === 0 && l.latin === 0) return given;
  const cyrillicText = l.cyrillic > l.latin;
  if (given === 'en') return cyrillicText ? detectLanguage(text) : 'en';
  if (!cyrillicText) return 'en';
  if (given === 'uk' && l.russianOnly > 0 && l.ukrainianOnly === 0) return 'ru';
  if (given === 'ru' && l.ukrainianOnly > 0 && l.russianOnly === 0) return 'uk';
  return given;
}

/** The words of a text: runs of Unicode letters, lower case, an apostrophe kept between two letters. */
export function tokenize(text: string): string[] {
  return Array.from(normalize(text).matchAll(WORD), (m) => m[0]);
}

/** The stem of one word (any case) in a language. */
export function stemOf(word: string, language: SurveyLanguage): string {
  return stemKey(keyOf(normalize(word)), language);
}

/** The words of a text with their stems, stop-word flags and clauses. */
export function analyze(text: string, language: SurveyLanguage): Token[] {
  checkLanguage(language);
  const stops = stopWords(language);
  const tokens: Token[] = [];
  const normal = normalize(text);
  let clause = 0;
  let end = 0;
  for (const m of normal.matchAll(WORD)) {
    if (tokens.length > 0 && CLAUSE_BREAK.test(normal.slice(end, m.index))) clause++;
    end = m.index + m[0].length;
    const surface = m[0];
    const key = keyOf(surface);
    tokens.push({ surface, stem: stemKey(key, language), stop: key.length < 2 || stops.has(key), clause });
  }
  return tokens;
}

/** The stop words of a language, normalised like answers (lexicon.ts keeps them as typed). */
export function stopWords(language: SurveyLanguage): ReadonlySet<string> {
  let set = stopSets.get(language);
  if (!set) {
    set = new Set(STOP_WORDS[language].map((w) => keyOf(normalize(w))));
    stopSets.set(language, set);
  }
  return set;
}

/** Throws on a language the analytics have no stemmer for (callers in JavaScript can pass anything). */
export function checkLanguage(language: string): asserts language is SurveyLanguage {
  if (!(SURVEY_LANGUAGES as readonly string[]).includes(language)) {
    throw invalid(
      `survey language must be one of ${SURVEY_LANGUAGES.join(', ')}; got ${JSON.stringify(language)}`,
    );
  }
}

/**
 * A letter, then letters or combining marks, optionally an apostrophe and more letters ("кур'єр",
 * "don't"); after normalize() every apostrophe is `'`. Digits, hyphens and other signs split words.
 */
const WORD = /\p{L}[\p{L}\p{M}]*(?:'\p{L}[\p{L}\p{M}]*)*/gu;
/** What ends a clause between two words: sentence and list punctuation, brackets, dashes, line breaks. */
const CLAUSE_BREAK = /[.,!?;:()[\]{}…—–\n\r]|\s-|-\s/;
/**
 * The apostrophes people type in Ukrainian (’ ʼ ' and the look-alikes ‘ ` ´), all written as `'`: the
 * ASCII one because the English stemmer knows it ("customer's" → "custom").
 */
const APOSTROPHES = /[\u2019\u02BC\u2018\u0060\u00B4]/g;

/**
 * Lower case in NFC (so a "й" typed as и + breve is one letter) without stress marks (U+0300/U+0301,
 * which dictionaries and careful writers put on Cyrillic vowels), with one apostrophe.
 */
function normalize(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[\u0300\u0301]/g, '')
    .replace(APOSTROPHES, "'");
}

/** What words are compared and stemmed as: ё as е, as most Russian text is typed and the stemmer expects. */
function keyOf(surface: string): string {
  return surface.replace(/ё/g, 'е');
}

type Stemmer = { stemWord(word: string): string; cache: Record<string, string> };
const stemmers: Record<SurveyLanguage, Stemmer> = {
  en: new nlpEn.StemmerEn(),
  ru: new nlpRu.StemmerRu(),
  uk: new nlpUk.StemmerUk(),
};
/**
 * Our memo of stems, and the bound on it and on the stemmers' own (which keeps every word it is given):
 * a server reading answers for months would otherwise keep every misspelling it ever saw. 50,000 words
 * is more than the surveys of a shop use in a year; past it both memos start again.
 */
const MAX_MEMO = 50_000;
const memo = new Map<string, string>();
const stopSets = new Map<SurveyLanguage, ReadonlySet<string>>();

function stemKey(key: string, language: SurveyLanguage): string {
  const memoKey = `${language}:${key}`;
  let stem = memo.get(memoKey);
  if (stem === undefined) {
    if (memo.size >= MAX_MEMO) {
      memo.clear();
      for (const s of Object.values(stemmers)) s.cache = {};
    }
    const raw = stemmers[language].stemWord(key);
    const corrections = STEM_CORRECTIONS[language];
    // hasOwn: a word like "constructor" must not find Object.prototype's.
    stem = Object.hasOwn(corrections, raw) ? (corrections[raw] as string) : raw;
    memo.set(memoKey, stem);
  }
  return stem;
}

const LATIN = /\p{Script=Latin}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;

function letterCounts(text: string): {
  latin: number;
  cyrillic: number;
  ukrainianOnly: number;
  russianOnly: number;
} {
  let latin = 0;
  let cyrillic = 0;
  let ukrainianOnly = 0;
  let russianOnly = 0;
  for (const ch of text.toLowerCase()) {
    if (LATIN.test(ch)) latin++;
    else if (CYRILLIC.test(ch)) {
      cyrillic++;
      if ('іїєґ'.includes(ch)) ukrainianOnly++;
      else if ('ыэъё'.includes(ch)) russianOnly++;
    }
  }
  return { latin, cyrillic, ukrainianOnly, russianOnly };
}

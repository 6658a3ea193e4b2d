/**
 * What the "why" answers of each score band talk about (issue 27): the stems and two-word phrases most
 * answers of a band mention, each shown by the words people actually wrote; and the unhappy words that
 * turn an answer into a call task. Pure: answers in, counts out.
 *
 * A theme is counted once per answer that mentions it (an answer repeating "late, late, late" is one
 * late answer), keyed by language and stem: the same stem in Ukrainian and Russian ("доставк") stays two
 * themes, each with its own words and examples.
 */
import { invalid } from '../../shared/errors.js';
import { BANDS, bandOf, type ScoreBand, type SurveyKind } from './scores.js';
import { NEGATIVE_WORDS } from './lexicon.js';
import { analyze, answerLanguage, checkLanguage, type SurveyLanguage, type Token } from './text.js';

export {
  analyze,
  answerLanguage,
  detectLanguage,
  languageOfTag,
  stemOf,
  tokenize,
  SURVEY_LANGUAGES,
} from './text.js';
export type { SurveyLanguage, Token } from './text.js';

/** One answer of a survey. */
export interface SurveyAnswer {
  score: number;
  /** The free-text "why"; empty or missing when the customer wrote nothing. */
  why?: string | null;
  /** The contact's locale (`uk`, `ru-RU`, `en`…); null or another language: read from the text's letters. */
  locale?: string | null;
}

export interface ThemeOptions {
  /** Themes per band and kind (stems, phrases); default 10. */
  top?: number;
  /** Example answers per theme; default 3. */
  examples?: number;
  /** Leave out themes fewer answers than this mention; default 1. */
  minCount?: number;
}

export interface Theme {
  kind: 'term' | 'phrase';
  language: SurveyLanguage;
  /** The stem, or the two stems of a phrase joined by a space: what is counted. */
  stem: string;
  /** The most frequent way it was written (`forms[0]`). */
  label: string;
  /** How it was written, most frequent first (ties alphabetical), at most three. */
  forms: string[];
  /** Answers of the band mentioning it. */
  count: number;
  /** count / the band's answers with a "why" (0..1). */
  share: number;
  /** The first answers mentioning it, as written, at most `examples`. */
  examples: string[];
}

export interface BandThemes {
  band: ScoreBand;
  /** Answers with a score in the band. */
  answers: number;
  /**
   * Those whose "why" has a word that is not a stop word: what shares are of (an empty "why", or "ok",
   * says nothing about themes).
   */
  withWhy: number;
  /** The top single stems, by count then stem. */
  terms: Theme[];
  /** The top pairs of adjacent non-stop-word stems in one clause ("delivery late" from "delivery was late"). */
  phrases: Theme[];
}

/**
 * The themes of the "why" answers per score band, bands worst first (NPS: detractor, passive,
 * promoter; CSAT: unhappy, neutral, happy), every band present even when empty. Throws on a score out
 * of the kind's range.
 */
export function surveyThemes(
  kind: SurveyKind,
  answers: readonly SurveyAnswer[],
  options: ThemeOptions = {},
): BandThemes[] {
  const top = count(options.top, 10, 'top');
  const examples = count(options.examples, 3, 'examples');
  const minCount = count(options.minCount, 1, 'minCount');
  const bands = new Map<ScoreBand, BandCounts>(
    BANDS[kind].map((b) => [b, { answers: 0, withWhy: 0, terms: new Map(), phrases: new Map() }]),
  );
  answers.forEach((answer, i) => {
    let band: ScoreBand;
    try {
      band = bandOf(kind, answer.score);
    } catch (e) {
      throw invalid(`answers[${i}].score: ${(e as Error).message}`, { field: `answers[${i}].score` });
    }
    const counts = bands.get(band) as BandCounts;
    counts.answers++;
    const why = (answer.why ?? '').trim();
    if (why === '') return;
    const language = answerLanguage(why, answer.locale);
    const tokens = analyze(why, language);
    const content = tokens.filter((t) => !t.stop);
    if (content.length === 0) return;
    counts.withWhy++;
    const seenTerms = new Set<string>();
    for (const t of content) {
      note(counts.terms, 'term', language, t.stem, t.surface, why, seenTerms, examples);
    }
    const seenPhrases = new Set<string>();
    for (let j = 1; j < content.length; j++) {
      const a = content[j - 1] as Token;
      const b = content[j] as Token;
      if (a.clause !== b.clause || a.stem === b.stem) continue;
      note(
        counts.phrases,
        'phrase',
        language,
        `${a.stem} ${b.stem}`,
        `${a.surface} ${b.surface}`,
        why,
        seenPhrases,
        examples,
      );
    }
  });
  return [...bands].map(([band, c]) => ({
    band,
    answers: c.answers,
    withWhy: c.withWhy,
    terms: ranked(c.terms, c.withWhy, top, minCount),
    phrases: ranked(c.phrases, c.withWhy, top, minCount),
  }));
}

/**
 * The unhappy words and phrases of lexicon.ts found in a text, as written (lower case), in order of
 * appearance, each once. The language is the locale's unless the letters say otherwise (see
 * `answerLanguage`). No negation handling: "nothing was broken" finds "broken".
 */
export function negativeTerms(text: string, locale?: string | null): string[] {
  const language = answerLanguage(text, locale);
  const tokens = analyze(text, language);
  const lexicon = negativeLexicon(language);
  const found: string[] = [];
  for (let i = 0; i < tokens.length;) {
    const first = tokens[i] as Token;
    // Entries are longest first, so "wrong address" is found rather than "wrong" inside it.
    const entry = (lexicon.get(first.stem) ?? []).find((stems) =>
      stems.every((stem, k) => tokens[i + k]?.stem === stem && tokens[i + k]?.clause === first.clause),
    );
    if (!entry) {
      i++;
      continue;
    }
    const words = tokens
      .slice(i, i + entry.length)
      .map((t) => t.surface)
      .join(' ');
    if (!found.includes(words)) found.push(words);
    i += entry.length;
  }
  return found;
}

/** Whether a text has any unhappy word of lexicon.ts: the rule "negative words in why → a call task". */
export function isNegative(text: string, locale?: string | null): boolean {
  return negativeTerms(text, locale).length > 0;
}

interface ThemeCounts {
  kind: 'term' | 'phrase';
  language: SurveyLanguage;
  stem: string;
  count: number;
  forms: Map<string, number>;
  examples: string[];
}

interface BandCounts {
  answers: number;
  withWhy: number;
  terms: Map<string, ThemeCounts>;
  phrases: Map<string, ThemeCounts>;
}

/** Counts one mention: the surface form every time, the answer once per theme. */
function note(
  themes: Map<string, ThemeCounts>,
  kind: 'term' | 'phrase',
  language: SurveyLanguage,
  stem: string,
  surface: string,
  why: string,
  seen: Set<string>,
  maxExamples: number,
): void {
  const key = `${language}:${stem}`;
  let theme = themes.get(key);
  if (!theme) {
    theme = { kind, language, stem, count: 0, forms: new Map(), examples: [] };
    themes.set(key, theme);
  }
  theme.forms.set(surface, (theme.forms.get(surface) ?? 0) + 1);
  if (seen.has(key)) return;
  seen.add(key);
  theme.count++;
  if (theme.examples.length < maxExamples && !theme.examples.includes(why)) theme.examples.push(why);
}

function ranked(themes: Map<string, ThemeCounts>, withWhy: number, top: number, minCount: number): Theme[] {
  return [...themes.values()]
    .filter((t) => t.count >= minCount)
    .sort((a, b) => b.count - a.count || compare(a.stem, b.stem) || compare(a.language, b.language))
    .slice(0, top)
    .map((t) => {
      const forms = [...t.forms]
        .sort((a, b) => b[1] - a[1] || compare(a[0], b[0]))
        .slice(0, 3)
        .map(([form]) => form);
      return {
        kind: t.kind,
        language: t.language,
        stem: t.stem,
        label: forms[0] as string,
        forms,
        count: t.count,
        share: t.count / withWhy,
        examples: t.examples,
      };
    });
}

/** Code-point order: the same on every machine, unlike localeCompare, which follows the ICU data. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function count(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0)
    throw invalid(`${name} must be a whole number ≥ 0, got ${v}`, { field: name });
  return v;
}

/** Each language's unhappy entries as stem sequences, indexed by their first stem. */
const lexicons = new Map<SurveyLanguage, Map<string, string[][]>>();

function negativeLexicon(language: SurveyLanguage): Map<string, string[][]> {
  checkLanguage(language);
  let index = lexicons.get(language);
  if (!index) {
    index = new Map();
    for (const entry of NEGATIVE_WORDS[language]) {
      const stems = analyze(entry, language).map((t) => t.stem);
      const first = stems[0];
      if (first === undefined) continue;
      const list = index.get(first) ?? [];
      // The same entry twice (two inflections of one word in the list) would only repeat a match.
      if (!list.some((s) => s.join(' ') === stems.join(' '))) list.push(stems);
      index.set(first, list);
    }
    for (const list of index.values()) list.sort((a, b) => b.length - a.length);
    lexicons.set(language, index);
  }
  return index;
}

/**
 * Types for the part of nlp.js's language packages that the survey analytics use: the Snowball-style
 * stemmers (the packages ship plain CommonJS without declarations). Only what is called is declared:
 * `stemWord` takes one lower-case word, and the stemmer memoises every word it has seen in `cache`
 * (keys are `.` + the word), which text.ts empties now and then.
 */
declare module '@nlpjs/lang-en-min' {
  const lang: { StemmerEn: new () => { stemWord(word: string): string; cache: Record<string, string> } };
  export default lang;
}

declare module '@nlpjs/lang-ru' {
  const lang: { StemmerRu: new () => { stemWord(word: string): string; cache: Record<string, string> } };
  export default lang;
}

declare module '@nlpjs/lang-uk' {
  const lang: { StemmerUk: new () => { stemWord(word: string): string; cache: Record<string, string> } };
  export default lang;
}

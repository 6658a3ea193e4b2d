import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

import cohorts from './locales/cohorts';
import common from './locales/common';
import ltv from './locales/ltv';
import overview from './locales/overview';
import messages from './locales/messages';
import customers from './locales/customers';
import predictions from './locales/predictions';
import segments from './locales/segments';
import settings from './locales/settings';
import imports from './locales/imports';
import basket from './locales/basket';
import loyalty from './locales/loyalty';
import campaigns from './locales/campaigns';
import flows from './locales/flows';
import surveys from './locales/surveys';
import tasks from './locales/tasks';
import subscriptions from './locales/subscriptions';
import subscriptionsReport from './locales/subscriptionsReport';

/**
 * The dashboard's one message catalogue (uk, ru, en), kept in one file per page under locales/ (each
 * has the three languages, typed by its English) and merged here; a page may add its own `nav` label.
 * Money, numbers and dates are formatted by `Intl` in the chosen language; the definitions are those of
 * docs/metrics.md.
 */
const PARTS = [
  common,
  overview,
  segments,
  messages,
  cohorts,
  ltv,
  settings,
  imports,
  basket,
  customers,
  predictions,
  loyalty,
  campaigns,
  flows,
  surveys,
  tasks,
  subscriptions,
  subscriptionsReport,
];

type Tree = { [key: string]: string | Tree };
function merge(into: Tree, from: Tree): Tree {
  for (const [k, v] of Object.entries(from)) {
    const there = into[k];
    into[k] = typeof v === 'object' && typeof there === 'object' ? merge({ ...there }, v) : v;
  }
  return into;
}
const catalogue = (lang: 'en' | 'uk' | 'ru') =>
  PARTS.reduce<Tree>((all, part) => merge(all, part[lang] as Tree), {});

export const LANGUAGES = ['en', 'uk', 'ru'] as const;
export type Language = (typeof LANGUAGES)[number];
const LANG_KEY = 'retain.lang';

export function initialLanguage(): Language {
  const saved = localStorage.getItem(LANG_KEY);
  if (saved && (LANGUAGES as readonly string[]).includes(saved)) return saved as Language;
  const nav = navigator.language.slice(0, 2);
  return (LANGUAGES as readonly string[]).includes(nav) ? (nav as Language) : 'en';
}

export function setLanguage(lang: Language): void {
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
  void i18n.changeLanguage(lang);
}

void i18n.use(initReactI18next).init({
  resources: Object.fromEntries(LANGUAGES.map((l) => [l, { translation: catalogue(l) }])),
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
});
document.documentElement.lang = i18n.language;

export default i18n;

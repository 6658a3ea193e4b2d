/**
 * The word lists of the survey analytics, kept as data apart from the code that uses them: stop words
 * (dropped before counting themes), the unhappy words that make a "why" answer negative, and a few stem
 * corrections. Words are written as people type them; text.ts normalises them the way it normalises
 * answers (lower case, one apostrophe, ё → е) and stems them with the language's stemmer, so a list
 * needs one form of each word, not every inflection. Stop words are separated by white space, unhappy
 * entries by commas (an entry may be a phrase).
 *
 * Why our own stop-word lists: nlp.js ships none for Ukrainian, its Russian list is a translation of
 * the English one (it has "являюсь" and "иди", lacks "это", "очень", "просто"), and all three miss the
 * courtesy words ("thanks", "дякую", "спасибо") that fill promoters' answers and name no theme.
 */

/**
 * Function words, pronouns, particles, auxiliaries, small numbers and courtesy words: nothing a theme is about.
 * Negation words ("not", "не", "ні", "never") are here too: themes are topics, and "not fast" is about
 * speed. Evaluative words ("good", "bad", "хорошо", "погано") are not: they make the useful phrases
 * ("good quality", "якість погана").
 */
export const STOP_WORDS: Readonly<Record<Language, readonly string[]>> = {
  en: words(`
    a about above after again all already also always am an and any anything are aren't as at be because
    been before being below between bit both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each either else even ever every everything far few five for four
    from further get gets got had hadn't has hasn't have haven't having he her here hers herself him
    himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just let little lot lots
    me more most much my myself never no nobody nor not nothing now of off ok okay on once one only or
    other our ours ourselves out over own please pretty quite rather really same she should shouldn't
    since so some something still such ten than thank thanks that that's the their theirs them
    themselves then there there's these they they're this those though three through thx to too two
    under until up us very was wasn't way we we're were weren't what when where which while who whom why
    will with won't would wouldn't yet you you're your yours
  `),
  ru: words(`
    а без более больше бы был была были было быть в вам вас ваш ваша ваше ваши ведь весь во вот все
    всегда всего всей всем всех всю вся вы где да даже два две десять для до его ее ей ему если есть еще
    же за здесь и из или им их к как какой когда которая которые который кто ли либо меня мне мной мы на
    нам нас наш не него нее немного нет ни никогда никто ним них ничего но ну о об один одна он она они
    оно опять от очень по под пожалуйста потом потому почти при про просто пять с сам самое себе себя
    слишком снова со совсем спасибо так также там то тогда того тоже только том тот три ту тут ты у уж
    уже хоть чем через четыре что чтобы чуть эта эти это этого этой этом этот эту я
  `),
  uk: words(`
    а аби або але б без би бо був буде була були було бути більш більше в вам вас ваш ваша ваше ваші
    весь вже взагалі ви вона вони воно все всього всі від він два дві де десять для до дуже дякую
    дякуємо ж же з за завжди зараз знову зі й його йому коли куди лише майже мене мені ми мною моя моє
    мої мій на навіть надто нам нас наш наша не ну ні ніж ніколи ніхто нічого о об один одна ось от
    п'ять по потім при про просто під після раз сам саме себе собі спасибі та так також там те теж ти то
    тоді той тому три трохи тут ті тільки у усе усі це цей цього ця ці через чи чим чотири ще що щоб я
    як яка яке який які є і із їй їм їх її
  `),
};

/**
 * Unhappy words and phrases: one of them in a "why" answer is a complaint worth a call, whatever the
 * score. Matched on stems, so "delayed"/"delay" and "зламаний"/"зламана"/"зламали" are one entry each;
 * a phrase (words separated by spaces) matches those stems next to each other, stop words included
 * ("never again", "больше никогда"). Negation is not handled: "nothing broken" matches "broken".
 *
 * Left out on purpose: words that are as often praise as complaint in a shop's answers — "return",
 * "возврат", "повернення" ("returns were easy"), "small"/"big" (sizes that fit), "cheap" (a good price
 * as often as poor make).
 */
export const NEGATIVE_WORDS: Readonly<Record<Language, readonly string[]>> = {
  en: entries(`
    # Delivery that was late, slow or never came.
    late, delay, delayed, slow, slowly, lost, missing, never arrived, never came, still waiting, took
    forever, took longer, wrong address,
    # Damaged or faulty goods and packaging.
    broken, broke, damaged, crushed, dented, smashed, cracked, torn, ripped, scratched, defective,
    faulty, stained, peeling, leaking,
    # Wrong item or size.
    wrong, doesn't fit, didn't fit, not fit, inconsistent,
    # Service.
    rude, unhelpful, ignored, ignoring, impolite, unprofessional, no answer, no response,
    # Money.
    refund, overpriced, expensive, overcharged, scam, fake,
    # Plain unhappiness.
    bad, poor, terrible, awful, horrible, worst, disappointed, disappointing, useless, unacceptable,
    nightmare, waste, complaint, never again,
  `),
  ru: entries(`
    # Delivery that was late, slow or never came.
    опоздание, опоздали, опоздала, опоздал, задержка, задержали, поздно, долго, медленно, медленная,
    потеряли, потерялась, затянули, затянулся, не пришел, не пришла, до сих пор,
    # Damaged or faulty goods and packaging.
    сломан, сломанный, сломано, сломался, разбит, разбитый, поврежден, повреждение, помятый, помята, треснул,
    порван, рваный, брак, бракованный, дефект, испорчен, отклеилась,
    # Wrong item or size.
    не тот, не та, не подошла, не подошел, маломерят, маломерит, большемерят,
    # Service.
    грубо, грубый, нахамил, нахамили, хамски, хамский, хамство, хамка, игнорируют, молчит, не отвечают,
    # Money.
    дорого, переплата, обман, обманули, подделка,
    # Plain unhappiness.
    плохо, плохой, плохое, ужасно, ужасный, ужас, отвратительно, отвратительный, кошмар, разочарован,
    разочарование, жалоба, больше никогда,
  `),
  uk: entries(`
    # Delivery that was late, slow or never came.
    затримка, затримали, затрималась, запізнення, запізнився, запізнилась, пізно, довго, повільно,
    повільна, загубили, загубилась, затягнули, затягнулось, не прийшла, не прийшов, досі,
    # Damaged or faulty goods and packaging.
    зламаний, зламано, зламався, розбитий, розбита, пошкоджений, пошкодження, пом’ятий, зім’ята, тріснув,
    порваний, рваний, брак, бракований, дефект, зіпсований, відклеїлась,
    # Wrong item or size.
    не той, не та, не підійшла, не підійшов, маломірять, маломірить, великомірять,
    # Service.
    грубо, грубий, нагрубив, нагрубили, хамство, ігнорують, мовчить, не відповідають,
    # Money.
    поверніть, дорого, переплата, обман, обдурили, підробка,
    # Plain unhappiness.
    погано, поганий, погана, жахливо, жахливий, жах, огидний, огидне, кошмар, розчарований,
    розчарування, скарга, більше ніколи,
  `),
};

/**
 * Corrections of the stemmer's output, stem → stem, per language: the Snowball-style rules strip
 * endings and cannot undo a vowel that changes inside the word, so Ukrainian "якість" (quality) stems to
 * "якіст" and "якості" to "якост". Only alternations that split a survey theme are listed.
 */
export const STEM_CORRECTIONS: Readonly<Record<Language, Readonly<Record<string, string>>>> = {
  en: {},
  ru: {},
  uk: { якост: 'якіст', тижн: 'тижден' },
};

/** The languages the lists cover (text.ts's `SurveyLanguage`; spelled here so this file imports nothing). */
type Language = 'en' | 'ru' | 'uk';

/** Words separated by white space. */
function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Entries separated by commas; a line starting with # is a comment. */
function entries(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join(' ')
    .split(',')
    .map((e) => e.trim().replace(/\s+/g, ' '))
    .filter((e) => e !== '');
}

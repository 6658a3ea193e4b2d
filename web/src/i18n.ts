import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

/**
 * The dashboard's one message catalogue (uk, ru, en). Money, numbers and dates are formatted by `Intl`
 * in the chosen language; the definitions are those of docs/metrics.md.
 */
const en = {
  appName: 'Retain',
  nav: { overview: 'Overview', segments: 'Segments', logout: 'Log out', language: 'Language' },
  login: {
    title: 'Log in',
    email: 'Email',
    password: 'Password',
    submit: 'Log in',
    failed: 'Log-in failed: {{message}}',
  },
  common: { loading: 'Loading…', error: 'Something went wrong: {{message}}', retry: 'Try again' },
  overview: {
    title: 'Overview',
    asOf: 'As of {{day}}, in {{currency}}',
    empty: 'No orders yet. Import your orders to see your store:',
    customers: 'Customers',
    orders: 'Orders',
    netRevenue: 'Net revenue',
    aov: 'Average order value',
    repeatCustomerRate: 'Repeat-customer rate',
    ordersPerCustomer: 'Orders per customer',
    avgLifespanDays: 'Average lifespan (days)',
    definition: 'Definition',
    rfmTitle: 'Customers by RFM segment',
    rfmCustomers: 'Customers',
    rfmRevenueShare: 'Share of revenue',
  },
  segments: {
    title: 'Segments',
    builder: 'Build a segment',
    match: 'Customers matching',
    all: 'all of these',
    any: 'any of these',
    field: 'Field',
    param: 'Parameter',
    op: 'Operator',
    value: 'Value',
    add: 'Add a condition',
    remove: 'Remove',
    count_one: '{{n}} customer of {{of}} ({{share}})',
    // Ukrainian and Russian plurals need these; English never picks them.
    count_few: '{{n}} customers of {{of}} ({{share}})',
    count_many: '{{n}} customers of {{of}} ({{share}})',
    count_other: '{{n}} customers of {{of}} ({{share}})',
    revenue: '{{revenue}} revenue ({{share}})',
    reachable: 'Reachable',
    sample: 'Highest revenue first',
    customer: 'Customer',
    name: 'Name',
    save: 'Save segment',
    saved: 'Saved',
    list: 'Built-in and saved segments',
    builtin: 'built in',
  },
  definitions: {
    customers: 'Known customers with at least one sale before the as-of day.',
    orders: 'Sale orders of known customers (paid, pending, refunded, partially refunded).',
    netRevenue: 'Gross revenue minus refunds attributed to the orders.',
    aov: 'Gross revenue divided by orders.',
    repeatCustomerRate: 'Customers with two or more orders divided by customers.',
    ordersPerCustomer: 'Orders divided by customers.',
    avgLifespanDays: 'Average days from first to last order, over customers.',
  },
};
type Catalogue = typeof en;

const uk: Catalogue = {
  appName: 'Retain',
  nav: { overview: 'Огляд', segments: 'Сегменти', logout: 'Вийти', language: 'Мова' },
  login: {
    title: 'Вхід',
    email: 'Ел. пошта',
    password: 'Пароль',
    submit: 'Увійти',
    failed: 'Не вдалося увійти: {{message}}',
  },
  common: { loading: 'Завантаження…', error: 'Щось пішло не так: {{message}}', retry: 'Спробувати ще' },
  overview: {
    title: 'Огляд',
    asOf: 'Станом на {{day}}, у {{currency}}',
    empty: 'Замовлень ще немає. Імпортуйте замовлення, щоб побачити свій магазин:',
    customers: 'Клієнти',
    orders: 'Замовлення',
    netRevenue: 'Чистий дохід',
    aov: 'Середній чек',
    repeatCustomerRate: 'Частка повторних клієнтів',
    ordersPerCustomer: 'Замовлень на клієнта',
    avgLifespanDays: 'Середній строк життя (днів)',
    definition: 'Визначення',
    rfmTitle: 'Клієнти за сегментами RFM',
    rfmCustomers: 'Клієнти',
    rfmRevenueShare: 'Частка доходу',
  },
  segments: {
    title: 'Сегменти',
    builder: 'Створити сегмент',
    match: 'Клієнти, що відповідають',
    all: 'усім умовам',
    any: 'будь-якій умові',
    field: 'Поле',
    param: 'Параметр',
    op: 'Оператор',
    value: 'Значення',
    add: 'Додати умову',
    remove: 'Прибрати',
    count_one: '{{n}} клієнт із {{of}} ({{share}})',
    count_few: '{{n}} клієнти із {{of}} ({{share}})',
    count_many: '{{n}} клієнтів із {{of}} ({{share}})',
    count_other: '{{n}} клієнта із {{of}} ({{share}})',
    revenue: 'дохід {{revenue}} ({{share}})',
    reachable: 'Досяжні',
    sample: 'Спершу з найбільшим доходом',
    customer: 'Клієнт',
    name: 'Назва',
    save: 'Зберегти сегмент',
    saved: 'Збережено',
    list: 'Вбудовані та збережені сегменти',
    builtin: 'вбудований',
  },
  definitions: {
    customers: 'Відомі клієнти, що мають хоча б один продаж до дати звіту.',
    orders: 'Продажі відомих клієнтів (оплачені, очікують оплати, повернені, частково повернені).',
    netRevenue: 'Валовий дохід мінус повернення, віднесені до замовлень.',
    aov: 'Валовий дохід, поділений на кількість замовлень.',
    repeatCustomerRate: 'Клієнти з двома й більше замовленнями, поділені на всіх клієнтів.',
    ordersPerCustomer: 'Замовлення, поділені на клієнтів.',
    avgLifespanDays: 'Середня кількість днів від першого до останнього замовлення.',
  },
};

const ru: Catalogue = {
  appName: 'Retain',
  nav: { overview: 'Обзор', segments: 'Сегменты', logout: 'Выйти', language: 'Язык' },
  login: {
    title: 'Вход',
    email: 'Эл. почта',
    password: 'Пароль',
    submit: 'Войти',
    failed: 'Не удалось войти: {{message}}',
  },
  common: { loading: 'Загрузка…', error: 'Что-то пошло не так: {{message}}', retry: 'Повторить' },
  overview: {
    title: 'Обзор',
    asOf: 'На {{day}}, в {{currency}}',
    empty: 'Заказов пока нет. Импортируйте заказы, чтобы увидеть свой магазин:',
    customers: 'Клиенты',
    orders: 'Заказы',
    netRevenue: 'Чистая выручка',
    aov: 'Средний чек',
    repeatCustomerRate: 'Доля повторных клиентов',
    ordersPerCustomer: 'Заказов на клиента',
    avgLifespanDays: 'Средний срок жизни (дней)',
    definition: 'Определение',
    rfmTitle: 'Клиенты по сегментам RFM',
    rfmCustomers: 'Клиенты',
    rfmRevenueShare: 'Доля выручки',
  },
  segments: {
    title: 'Сегменты',
    builder: 'Создать сегмент',
    match: 'Клиенты, соответствующие',
    all: 'всем условиям',
    any: 'любому условию',
    field: 'Поле',
    param: 'Параметр',
    op: 'Оператор',
    value: 'Значение',
    add: 'Добавить условие',
    remove: 'Убрать',
    count_one: '{{n}} клиент из {{of}} ({{share}})',
    count_few: '{{n}} клиента из {{of}} ({{share}})',
    count_many: '{{n}} клиентов из {{of}} ({{share}})',
    count_other: '{{n}} клиента из {{of}} ({{share}})',
    revenue: 'выручка {{revenue}} ({{share}})',
    reachable: 'Достижимы',
    sample: 'Сначала с наибольшей выручкой',
    customer: 'Клиент',
    name: 'Название',
    save: 'Сохранить сегмент',
    saved: 'Сохранено',
    list: 'Встроенные и сохранённые сегменты',
    builtin: 'встроенный',
  },
  definitions: {
    customers: 'Известные клиенты с хотя бы одной продажей до даты отчёта.',
    orders: 'Продажи известных клиентов (оплаченные, ожидающие оплаты, возвращённые, частично возвращённые).',
    netRevenue: 'Валовая выручка минус возвраты, отнесённые к заказам.',
    aov: 'Валовая выручка, делённая на число заказов.',
    repeatCustomerRate: 'Клиенты с двумя и более заказами, делённые на всех клиентов.',
    ordersPerCustomer: 'Заказы, делённые на клиентов.',
    avgLifespanDays: 'Среднее число дней от первого до последнего заказа.',
  },
};

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
  resources: { en: { translation: en }, uk: { translation: uk }, ru: { translation: ru } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
});
document.documentElement.lang = i18n.language;

export default i18n;

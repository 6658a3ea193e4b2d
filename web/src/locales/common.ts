/** The frame, log-in and shared labels. */
const en = {
  appName: 'Retain',
  nav: { logout: 'Log out', language: 'Language' },
  login: {
    title: 'Log in',
    email: 'Email',
    password: 'Password',
    submit: 'Log in',
    failed: 'Log-in failed: {{message}}',
  },
  common: { loading: 'Loading…', error: 'Something went wrong: {{message}}', retry: 'Try again' },
};

export default {
  en,
  uk: {
    appName: 'Retain',
    nav: { logout: 'Вийти', language: 'Мова' },
    login: {
      title: 'Вхід',
      email: 'Ел. пошта',
      password: 'Пароль',
      submit: 'Увійти',
      failed: 'Не вдалося увійти: {{message}}',
    },
    common: { loading: 'Завантаження…', error: 'Щось пішло не так: {{message}}', retry: 'Спробувати ще' },
  } satisfies typeof en,
  ru: {
    appName: 'Retain',
    nav: { logout: 'Выйти', language: 'Язык' },
    login: {
      title: 'Вход',
      email: 'Эл. почта',
      password: 'Пароль',
      submit: 'Войти',
      failed: 'Не удалось войти: {{message}}',
    },
    common: { loading: 'Загрузка…', error: 'Что-то пошло не так: {{message}}', retry: 'Повторить' },
  } satisfies typeof en,
};

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
  common: {
    loading: 'Loading…',
    error: 'Something went wrong: {{message}}',
    retry: 'Try again',
    /** The JSON editor of a definition (components/JsonEditor.tsx): flows, surveys, subscription plans. */
    jsonEditor: {
      badJson: 'This is not JSON: {{message}}',
      line: 'line {{line}}',
      show: 'Show {{path}} in the editor',
    },
  },
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
    common: {
      loading: 'Завантаження…',
      error: 'Щось пішло не так: {{message}}',
      retry: 'Спробувати ще',
      jsonEditor: {
        badJson: 'Це не JSON: {{message}}',
        line: 'рядок {{line}}',
        show: 'Показати {{path}} у редакторі',
      },
    },
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
    common: {
      loading: 'Загрузка…',
      error: 'Что-то пошло не так: {{message}}',
      retry: 'Повторить',
      jsonEditor: {
        badJson: 'Это не JSON: {{message}}',
        line: 'строка {{line}}',
        show: 'Показать {{path}} в редакторе',
      },
    },
  } satisfies typeof en,
};

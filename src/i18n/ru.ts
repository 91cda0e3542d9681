import type { MessageKey } from './en.js';

/** Russian catalogue; a key missing here falls back to English. */
export const ru: Partial<Record<MessageKey, string>> = {
  'product.name': 'Битрикс24.Network',
  'message.greeting': 'Здравствуйте!',
  'message.code_expiry': 'Код действует один раз в течение 10 минут.',
  'message.not_you': 'Если вы не запрашивали код, просто проигнорируйте это письмо: без кода ничего не изменится.',
  'message.confirm-email.subject': 'Подтвердите email в Битрикс24.Network',
  'message.confirm-email.intro': 'Введите этот код, чтобы подтвердить email вашего профиля Битрикс24.Network:',
  'message.confirm-email.sms': 'Код Битрикс24.Network: {code}',
  'message.connect-email.subject': 'Подключение email к профилю Битрикс24.Network',
  'message.connect-email.intro': 'Введите этот код, чтобы подключить этот email к профилю Битрикс24.Network:',
  'message.connect-email.sms': 'Код Битрикс24.Network: {code}',
  'message.connect-phone.subject': 'Код Битрикс24.Network',
  'message.connect-phone.intro': 'Введите этот код, чтобы подключить номер телефона:',
  'message.connect-phone.sms': 'Битрикс24.Network: {code} — код для подключения телефона. Действует 10 минут.',
  'message.recover-access.subject': 'Восстановление доступа к профилю Битрикс24.Network',
  'message.recover-access.intro': 'Введите этот код, чтобы задать новый пароль профиля Битрикс24.Network:',
  'message.recover-access.sms': 'Битрикс24.Network: {code} — код для восстановления доступа. Действует 10 минут.',
  'login.title': 'Вход в профиль Битрикс24.Network',
  'login.identifier': 'Email или номер телефона',
  'login.password': 'Пароль',
  'login.submit': 'Войти',
  'login.failed': 'Email, номер телефона или пароль указаны неверно. Проверьте их и попробуйте ещё раз.',
};

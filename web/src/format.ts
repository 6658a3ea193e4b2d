/** Money, numbers and percentages by `Intl`, in the interface language. */
export const fmt = {
  int: (lang: string, n: number) => new Intl.NumberFormat(lang).format(n),
  dec: (lang: string, n: number, digits = 2) =>
    new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n),
  money: (lang: string, n: number, currency: string) =>
    new Intl.NumberFormat(lang, { style: 'currency', currency }).format(n),
  pct: (lang: string, n: number) =>
    new Intl.NumberFormat(lang, {
      style: 'percent',
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
    }).format(n),
};

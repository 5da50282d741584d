/** The one-page invoice (Счёт на оплату) both render benches use: the pool bench renders it as is, render-e2e uploads it as a template. */
export const INVOICE_LINES = [
  ['Разработка программного обеспечения по договору № 12/24', 1, 'усл.', 150_000_00],
  ['Сопровождение информационной системы, март 2025 г.', 1, 'мес.', 45_000_00],
  ['Лицензия «Папка Бизнес» на 12 месяцев', 3, 'шт.', 12_500_00],
  ['Настройка интеграции с 1С: Бухгалтерия', 8, 'ч', 3_200_00],
  ['Обучение сотрудников заказчика (выезд)', 2, 'дн.', 18_000_00],
] as const;
const rub = (kopecks: number) =>
  (kopecks / 100).toLocaleString('ru-RU', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const total = INVOICE_LINES.reduce((sum, [, qty, , price]) => sum + qty * price, 0);

export const INVOICE_HTML = `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Счёт на оплату № 128</title>
<style>
  @page { size: A4; margin: 15mm 12mm; }
  body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #111; }
  .bank { width: 100%; border-collapse: collapse; margin-bottom: 14px; }
  .bank td { border: 1px solid #000; padding: 3px 5px; vertical-align: top; }
  h1 { font-size: 14pt; border-bottom: 2px solid #000; padding-bottom: 4px; }
  .parties td { padding: 3px 0; vertical-align: top; }
  .parties td:first-child { width: 90px; color: #444; }
  table.items { width: 100%; border-collapse: collapse; margin-top: 10px; }
  table.items th, table.items td { border: 1px solid #000; padding: 4px 5px; }
  table.items th { background: #eee; font-weight: bold; text-align: center; }
  table.items td.n { text-align: right; white-space: nowrap; }
  .totals { margin-top: 8px; text-align: right; font-weight: bold; }
  .words { margin-top: 10px; }
  .sign { margin-top: 36px; display: flex; justify-content: space-between; }
  .sign div { width: 45%; border-top: 1px solid #000; padding-top: 3px; font-size: 8pt; color: #444; }
</style></head>
<body>
  <table class="bank">
    <tr><td colspan="2" rowspan="2">ПАО «Сбербанк», г. Москва<br><small>Банк получателя</small></td><td>БИК</td><td>044525225</td></tr>
    <tr><td>Сч. №</td><td>30101810400000000225</td></tr>
    <tr><td>ИНН 7707083893</td><td>КПП 773601001</td><td rowspan="2">Сч. №</td><td rowspan="2">40702810938000012345</td></tr>
    <tr><td colspan="2">ООО «Ромашка»<br><small>Получатель</small></td></tr>
  </table>
  <h1>Счёт на оплату № 128 от 14 марта 2025 г.</h1>
  <table class="parties">
    <tr><td>Поставщик:</td><td>ООО «Ромашка», ИНН 7707083893, КПП 773601001, 117997, г. Москва, ул. Вавилова, д. 19</td></tr>
    <tr><td>Покупатель:</td><td>ИП Иванов Иван Иванович, ИНН 501817999160, 141400, Московская обл., г. Химки, ул. Ленина, д. 1</td></tr>
    <tr><td>Основание:</td><td>Договор № 12/24 от 10 января 2025 г.</td></tr>
  </table>
  <table class="items">
    <tr><th>№</th><th>Товары (работы, услуги)</th><th>Кол-во</th><th>Ед.</th><th>Цена</th><th>Сумма</th></tr>
    ${INVOICE_LINES
      .map(
        ([name, qty, unit, price], i) =>
          `<tr><td class="n">${i + 1}</td><td>${name}</td><td class="n">${qty}</td><td>${unit}</td><td class="n">${rub(price)}</td><td class="n">${rub(qty * price)}</td></tr>`,
      )
      .join('\n    ')}
  </table>
  <div class="totals">Итого: ${rub(total)} ₽<br>В том числе НДС (20 %): ${rub(Math.round(total / 6))} ₽<br>Всего к оплате: ${rub(total)} ₽</div>
  <div class="words">Всего наименований 5, на сумму ${rub(total)} руб.<br>
    <b>Двести семьдесят девять тысяч шестьсот рублей 00 копеек</b></div>
  <p>Оплатить не позднее 24 марта 2025 г. Оплата данного счёта означает согласие с условиями поставки товара.</p>
  <div class="sign"><div>Руководитель — Петров П. П.</div><div>Бухгалтер — Сидорова С. С.</div></div>
</body></html>`;

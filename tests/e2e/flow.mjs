// The four-role flow in a real browser (Debian's chromium, headless), in order:
// 1. the forecaster approves a forecast; 2. the office issues an orange warning;
// 3. the enterprise sees and acknowledges its notice; 4. another enterprise's token cannot see it;
// 5. on a phone, the office extends and upgrades the warning, is refused an end in the past in
// Chinese, and switches a filtered page's language; 6. every role's pages in Chinese and English
// at 1280 and 390 px: in their language, no page-wide scroll on a phone, the charts drawn.
// A screenshot of each page goes to OUT. Usage: node flow.mjs BASE OUT TOKEN_FC TOKEN_OFFICE TOKEN_A TOKEN_B
import { mkdirSync } from 'node:fs';
import { browser, check, noHorizontalScroll, signIn as signInAt } from './common.mjs';

const [base, out, fcToken, officeToken, aToken, bToken] = process.argv.slice(2);
const signIn = (token, width) => signInAt(base, token, width);

// A warning step from the office's page: the form whose button is `step`, its fields filled.
async function step(page, name, fields) {
  const form = page.locator(`form:has(#${name})`);
  for (const [field, value] of Object.entries(fields)) {
    const input = form.locator(`[name=${field}]`);
    if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
    else await input.fill(value);
  }
  await Promise.all([page.waitForNavigation(), page.click(`#${name}`)]);
  return (await page.locator('main > p.msg:not(#demo-clock)').first().textContent()).trim();
}

async function onAPhone(officeToken) {
  const office = await signIn(officeToken, 390);
  let said = await step(office, 'extend', { end: '2026-01-06T00:00', reason: '延长至1月6日' });
  check(said.includes('延长'), `the office extends the warning on a phone (${said})`);
  said = await step(office, 'upgrade', { level: 'red', end: '2026-01-06T00:00', reason: '会商后升级' });
  check(said.includes('升级') && said.includes('红色'), `and upgrades it to red (${said})`);
  check((await office.locator('#issue').count()) === 0, 'a warning in force offers no second issue');
  said = await step(office, 'downgrade', { level: 'yellow', end: '2025-12-01T00:00', reason: '降级' });
  check(said.startsWith('未执行') && !/[a-z]{3,}/.test(said), `an end in the past is refused in Chinese (${said})`);
  await noHorizontalScroll(office, 'the office page after its steps');
  await office.screenshot({ path: `${out}/5-office-phone.png`, fullPage: true });
  await office.goto(`${base}/office/history?year=2026`);
  await Promise.all([office.waitForNavigation(), office.click('#lang')]);
  const there = new URL(office.url());
  check(
    there.pathname === '/office/history' && there.searchParams.get('year') === '2026' && there.searchParams.get('lang') === 'en',
    `the language switch keeps the page and its year (${office.url()})`,
  );
  check((await office.locator('html').getAttribute('lang')) === 'en', 'and shows it in English');
  await office.context().close();
}

// Every role's pages in both languages at both widths.
async function everyPage(tokens) {
  mkdirSync(`${out}/pages`, { recursive: true });
  const pages = [
    [tokens.fc, ['/', '/forecaster', '/login']],
    [tokens.office, ['/office', '/office/history', '/office/audit', '/office/print']],
    [tokens.a, ['/enterprise']],
  ];
  for (const width of [1280, 390]) {
    for (const [token, paths] of pages) {
      const page = await signIn(token, width);
      for (const path of paths) {
        for (const lang of ['zh-CN', 'en']) {
          await page.goto(`${base}${path}${lang === 'en' ? '?lang=en' : ''}`);
          const what = `${path} in ${lang}`;
          check((await page.locator('html').getAttribute('lang')) === lang, `${what} at ${width} px is in its language`);
          await noHorizontalScroll(page, what);
          if (path === '/forecaster') {
            await page.waitForSelector('#daily-chart[data-drawn=true] svg');
            check((await page.locator('.echart[data-drawn=true] svg').count()) >= 2, `${what}: its charts are drawn`);
          }
          const name = path === '/' ? 'public' : path.slice(1).replaceAll('/', '-');
          await page.screenshot({ path: `${out}/pages/${name}-${lang}-${width}.png`, fullPage: true });
        }
      }
      await page.context().close();
    }
  }
}

try {
  // 1. Forecaster
  const fc = await signIn(fcToken);
  check(new URL(fc.url()).pathname === '/forecaster', 'the forecaster lands on the forecast page');
  await fc.waitForSelector('#daily-chart[data-drawn=true] svg');
  check((await fc.locator('.echart[data-drawn=true] svg').count()) === 2, 'ECharts draws the hourly and daily charts');
  await fc.screenshot({ path: `${out}/1-forecaster.png`, fullPage: true });
  await fc.fill('#note', '同意，静稳天气持续');
  await Promise.all([fc.waitForNavigation(), fc.click('#approve')]);
  check((await fc.textContent('#status')).trim() === '已批准', 'the forecast is approved');
  await fc.screenshot({ path: `${out}/1-forecaster-approved.png`, fullPage: true });

  // 2. Emergency office
  const office = await signIn(officeToken);
  const form = office.locator('form:has(#issue)');
  await form.locator('select[name=level]').selectOption('orange');
  await form.locator('input[name=start]').fill('2026-01-02T00:00');
  await form.locator('input[name=end]').fill('2026-01-05T00:00');
  await form.locator('input[name=reason]').fill('会商后发布橙色预警');
  await Promise.all([office.waitForNavigation(), office.click('#issue')]);
  const inForce = await office.textContent('#in-force');
  check(inForce.includes('橙色'), `an orange warning is in force (${inForce.trim()})`);
  check((await office.locator('#deliveries tr').count()) > 1, 'the office sees delivery status per enterprise');
  await office.screenshot({ path: `${out}/2-office.png`, fullPage: true });

  // 3. Enterprise A
  const a = await signIn(aToken);
  const noticeId = (await a.textContent('#notice h2')).trim();
  check(noticeId.length > 0, `enterprise A sees its notice ${noticeId}`);
  await a.screenshot({ path: `${out}/3-enterprise.png`, fullPage: true });
  await Promise.all([a.waitForNavigation(), a.click('#ack')]);
  check((await a.locator('#acked').count()) === 1, 'enterprise A acknowledged it');
  await a.screenshot({ path: `${out}/3-enterprise-acknowledged.png`, fullPage: true });

  // 4. Enterprise B
  const b = await signIn(bToken);
  const response = await b.request.get(`${base}/api/v1/notices/${encodeURIComponent(noticeId)}`);
  check(response.status() === 404, `enterprise B gets 404 for A's notice (got ${response.status()})`);
  check(!(await b.content()).includes(noticeId), "A's notice is nowhere on B's page");
  await b.screenshot({ path: `${out}/4-other-enterprise.png`, fullPage: true });

  // 5. The office on a phone
  await onAPhone(officeToken);

  // 6. Every page, both languages, both widths
  await everyPage({ fc: fcToken, office: officeToken, a: aToken });
} finally {
  await browser.close();
}

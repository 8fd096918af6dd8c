// The four-role flow in a real browser (Debian's chromium, headless), in order:
// 1. the forecaster approves a forecast; 2. the office issues an orange warning;
// 3. the enterprise sees and acknowledges its notice; 4. another enterprise's token cannot see it.
// A screenshot of each page goes to OUT. Usage: node flow.mjs BASE OUT TOKEN_FC TOKEN_OFFICE TOKEN_A TOKEN_B
import { browser, check, signIn as signInAt } from './common.mjs';

const [base, out, fcToken, officeToken, aToken, bToken] = process.argv.slice(2);
const signIn = (token) => signInAt(base, token);

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
} finally {
  await browser.close();
}

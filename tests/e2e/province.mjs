// A regional advisory in a real browser (Debian's chromium, headless): the province issues one
// to three cities with a deadline a few seconds away; Luohe follows (its own orange warning
// starts), Xuchang justifies, Zhoukou answers after the deadline; the province sees all three.
// Screenshots at 1280 and 390 px go to OUT.
// Usage: node province.mjs PROVINCE LUOHE XUCHANG ZHOUKOU OUT TOKEN_PROVINCE TOKEN_OFFICE
import { browser, check, noHorizontalScroll, signIn as signInAt } from './common.mjs';

const [province, luohe, xuchang, zhoukou, out, provinceToken, officeToken] = process.argv.slice(2);
const signIn = (base, token, width = 1280) => signInAt(base, token, width);

// Beijing time as a date-time picker holds it (no offset), `seconds` from now.
function beijing(seconds) {
  return new Date(Date.now() + seconds * 1000 + 8 * 3600 * 1000).toISOString().slice(0, 19);
}

try {
  const p = await signIn(province, provinceToken);
  check(new URL(p.url()).pathname === '/', 'the province lands on its page');
  check((await p.locator('#consultation tr[data-city]').count()) === 3, 'the consultation view lists the three cities');
  const deadlineSeconds = 25;
  const deadlineAt = Date.now() + deadlineSeconds * 1000;
  const form = p.locator('#issue-advisory');
  await form.locator('select[name=level]').selectOption('orange');
  await form.locator('input[name=start]').fill(beijing(3600));
  await form.locator('input[name=end]').fill(beijing(3 * 24 * 3600));
  await form.locator('input[name=deadline]').fill(beijing(deadlineSeconds));
  await form.locator('input[name=reason]').fill('区域重污染过程，请各市按时启动预警');
  await Promise.all([p.waitForNavigation(), p.click('#issue')]);
  const advisory = p.locator('section.advisory').first();
  const id = (await advisory.getAttribute('data-advisory')) || '';
  check(id.length > 0, `advisory ${id} is issued`);
  check((await advisory.locator('tr[data-city]').count()) === 3, 'it names three cities');
  check((await advisory.locator('td.status', { hasText: '待答复' }).count()) === 3, 'all three await an answer');
  check((await advisory.locator('td', { hasText: '已送达' }).count()) === 3, 'it reached each city office\'s channel');

  // Luohe follows: its warning starts at orange.
  const lh = await signIn(luohe, officeToken);
  const lhRow = lh.locator(`section.advisory[data-advisory="${id}"]`);
  check((await lhRow.count()) === 1, 'Luohe sees the advisory on its office page');
  await Promise.all([lh.waitForNavigation(), lhRow.locator('button.answer-follow').click()]);
  check((await lh.textContent('#in-force')).includes('橙色'), 'Luohe has an orange warning in force');
  check((await lhRow.textContent()).includes('已按提示'), 'Luohe\'s answer is recorded');
  await lh.screenshot({ path: `${out}/p2-luohe-office.png`, fullPage: true });

  // Xuchang justifies not following.
  const xc = await signIn(xuchang, officeToken);
  const xcRow = xc.locator(`section.advisory[data-advisory="${id}"]`);
  await xcRow.locator('form:has(button.answer-justify) input[name=reason]').fill('本市扩散条件较好，预报未达预警级别');
  await Promise.all([xc.waitForNavigation(), xcRow.locator('button.answer-justify').click()]);
  check((await xcRow.textContent()).includes('本市扩散条件较好'), 'Xuchang\'s justification is recorded');

  // Zhoukou answers after the deadline.
  const zk = await signIn(zhoukou, officeToken, 390);
  await zk.waitForTimeout(Math.max(0, deadlineAt - Date.now()) + 2000);
  await zk.reload();
  const zkRow = zk.locator(`section.advisory[data-advisory="${id}"]`);
  check((await zkRow.locator('.late').count()) === 1, 'Zhoukou\'s own page says it is overdue');
  await noHorizontalScroll(zk, 'Zhoukou office');
  await zkRow.locator('form:has(button.answer-justify) input[name=reason]').fill('值班交接延误');
  await Promise.all([zk.waitForNavigation(), zkRow.locator('button.answer-justify').click()]);
  await zk.screenshot({ path: `${out}/p3-zhoukou-office-390.png`, fullPage: true });

  // The province sees all three.
  await p.reload();
  const row = (city) => p.locator(`section.advisory[data-advisory="${id}"] tr[data-city="${city}"]`);
  check((await row('luohe').textContent()).includes('按时答复'), 'the province sees Luohe followed on time');
  check((await row('xuchang').textContent()).includes('本市扩散条件较好'), 'the province sees Xuchang\'s justification');
  check((await row('zhoukou').locator('td.late').textContent()).includes('迟报'), 'the province sees Zhoukou answered late');
  check((await p.locator('#consultation tr[data-city="luohe"]').textContent()).includes('橙色'), 'the consultation shows Luohe\'s warning');
  await p.screenshot({ path: `${out}/p1-province.png`, fullPage: true });
  const phone = await signIn(province, provinceToken, 390);
  await noHorizontalScroll(phone, 'province page');
  await phone.screenshot({ path: `${out}/p1-province-390.png`, fullPage: true });
  const en = await phone.goto(`${province}/?lang=en`);
  check(en.ok() && (await phone.textContent('h1')).includes('Province'), 'the province page in English');
  await phone.screenshot({ path: `${out}/p1-province-390-en.png`, fullPage: true });
} finally {
  await browser.close();
}

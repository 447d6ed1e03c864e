'use strict';
// The editor's chat in Chromium (issue #8): open the published chat example, open its chat, ask a
// question and read the bot's message at two moments while it grows, then ask a follow-up that the
// sandbox answers with the conversation's context. Screenshot for the README: docs/chat.png.
const { launchBrowser, n8nContext, signIn, failureShot } = require('./browser-tests');

const FIRST = 'What grew in Q3?';
const FOLLOW_UP = 'And what are the risks?';
/** Slow enough that the answer is seen growing (about 1.5 s for the sandbox's answer). */
const DELTA_DELAY_MS = 100;

async function runBrowserChatTests(ctx) {
	const { n8n, sandbox, check, log, artifactsDir, owner, repo, workflowId } = ctx;
	const { browser, shot } = await launchBrowser({ repo, log, artifactsDir });
	const result = { screenshots: {} };
	sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: DELTA_DELAY_MS });
	try {
		const context = await n8nContext(browser, n8n);
		const page = await context.newPage();
		await signIn(page, n8n, owner);

		await page.goto(`${n8n.url}/workflow/${workflowId}`);
		await page.locator('[data-test-id="canvas-node"]').first().waitFor();
		// n8n 2.x shows a "Production Checklist" over a published workflow's canvas: close it.
		await page.getByText('Production Checklist').locator('xpath=..').locator('button').first().click({ timeout: 3000 }).catch(() => {});
		const openChat = page.locator('[data-test-id^="execute-workflow-button-"]').filter({ hasText: /open chat/i }).first();
		if (!(await openChat.count())) {
			const ids = await page.$$eval('[data-test-id]', (els) => [...new Set(els.map((e) => e.getAttribute('data-test-id')))]);
			throw new Error(`no "Open chat" button; data-test-ids on the page: ${ids.join(', ')}`);
		}
		// The canvas pane lies over the button for pointer events; a click event on it is what the user's click does.
		await openChat.dispatchEvent('click');
		const input = page.getByPlaceholder(/type message/i).first();
		await input.waitFor();
		check(true, 'browser chat: the chat panel of the example opens');

		const botMessages = page.locator('.chat-message-from-bot');
		const ask = async (question) => {
			const before = await botMessages.count();
			await input.fill(question);
			await input.press('Enter');
			const message = botMessages.nth(before);
			await message.waitFor();
			// Two moments while the answer is written: some text, then more text that continues it.
			await page.waitForFunction((n) => (document.querySelectorAll('.chat-message-from-bot')[n]?.textContent || '').trim().length > 10, before, { timeout: 30_000 });
			const early = (await message.textContent()).trim();
			await page.waitForTimeout(600);
			const later = (await message.textContent()).trim();
			return { message, early, later };
		};
		const first = await ask(FIRST);
		const turnDone = () => sandbox.turnTimings.length > 0 && sandbox.turnTimings[sandbox.turnTimings.length - 1].finishedAt !== undefined;
		check(
			first.early.length > 0 && first.later.length > first.early.length && first.later.startsWith(first.early.slice(0, Math.max(0, first.early.length - 2))),
			'browser chat: the answer grows while it is written (text at two moments)',
			`early (${first.early.length} chars): ${JSON.stringify(first.early.slice(0, 120))}; later (${first.later.length} chars): ${JSON.stringify(first.later.slice(0, 160))}`,
		);
		log(`  answer at two moments: ${first.early.length} → ${first.later.length} characters`);
		for (let i = 0; i < 60 && !turnDone(); i++) await page.waitForTimeout(250);
		await page.waitForTimeout(800);
		const firstFinal = (await first.message.textContent()).trim();
		check(/Q3 revenue grew 12%/.test(firstFinal) && /Sources/.test(firstFinal), 'browser chat: the full answer with its sources is shown', firstFinal.slice(0, 300));

		const second = await ask(FOLLOW_UP);
		for (let i = 0; i < 60 && !turnDone(); i++) await page.waitForTimeout(250);
		await page.waitForTimeout(800);
		const secondFinal = (await second.message.textContent()).trim();
		check(secondFinal.includes(`Turn 2, following up on "${FIRST}"`), 'browser chat: the follow-up is answered with the conversation\'s context', secondFinal.slice(0, 300));
		// For the README: no toasts, and the chat scrolled to the follow-up's answer.
		for (const btn of await page.locator('.el-notification__closeBtn').all()) await btn.click({ timeout: 2000 }).catch(() => {});
		await second.message.evaluate((el) => el.scrollIntoView({ block: 'start' })).catch(() => {});
		await page.waitForTimeout(800);
		result.screenshots.chat = await shot(page, '10-editor-chat');
		await context.close();
	} catch (e) {
		result.screenshots.failure = await failureShot(browser, shot, '99-chat-failure');
		throw e;
	} finally {
		sandbox.setStreamBehaviour({});
		await browser.close().catch(() => {});
	}
	return result;
}

module.exports = { runBrowserChatTests };

'use strict';
// The editor's chat in Chromium (issue #8): open the published chat example, open its chat, ask a
// question and read the bot's message at two moments while it grows, then ask a follow-up that the
// sandbox answers with the conversation's context. Screenshot for the README: docs/chat.png.
// Issue #17 (called from queue.js): the hosted chat of a Chat Trigger with Load Previous Session: From Memory
// (runHostedChatMemoryTest), and the chat-with-memory example in the editor (workflowScreenshot).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { run } = require('./lib/proc');
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

/**
 * n8n's hosted chat page imports the chat widget from jsDelivr (https://cdn.jsdelivr.net/npm/@n8n/chat/dist/…).
 * There is no network here: the page gets the files of the same npm package, @n8n/chat (packed once into a
 * cache outside the repo), and normalize.css as an empty style sheet.
 */
const N8N_CHAT_VERSION = '1.37.0';
async function n8nChatDist() {
	const dir = path.join(os.homedir(), '.cache', 'n8n-nodes-llamacloud-chat', 'n8n-chat', N8N_CHAT_VERSION);
	const bundle = path.join(dir, 'dist', 'chat.bundle.es.js');
	if (fs.existsSync(bundle)) return path.dirname(bundle);
	fs.mkdirSync(dir, { recursive: true });
	const packed = await run('npm', ['pack', `@n8n/chat@${N8N_CHAT_VERSION}`, '--pack-destination', path.dirname(dir)], { cwd: path.dirname(dir), timeoutMs: 180_000 });
	if (packed.code !== 0) throw new Error(`npm pack @n8n/chat@${N8N_CHAT_VERSION}: ${packed.stderr.slice(-300)}`);
	const tar = await run('tar', ['-xzf', path.join(path.dirname(dir), `n8n-chat-${N8N_CHAT_VERSION}.tgz`), '-C', dir, '--strip-components=1'], { timeoutMs: 60_000 });
	if (tar.code !== 0 || !fs.existsSync(bundle)) throw new Error(`unpacking @n8n/chat failed: ${tar.stderr}`);
	return path.dirname(bundle);
}

const CHAT_QUESTIONS = ['What grew in Q3?', 'And what are the risks?'];

/**
 * The hosted chat (public Chat Trigger, Load Previous Session: From Memory, Redis Chat Memory) in Chromium:
 * ask two questions, reload the page, and the four messages are shown again, read back from the memory.
 */
async function runHostedChatMemoryTest({ chatUrl, sandbox, check, log, artifactsDir, repo }) {
	const dist = await n8nChatDist();
	const { browser, shot } = await launchBrowser({ repo, log, artifactsDir });
	const screenshots = {};
	sandbox.setStreamBehaviour({ contextAnswers: true });
	try {
		const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: 1 });
		context.setDefaultTimeout(30_000);
		const origin = new URL(chatUrl).origin;
		await context.route('**/*', (route) => {
			const u = route.request().url();
			const cdn = /^https:\/\/cdn\.jsdelivr\.net\/npm\/@n8n\/chat\/dist\/([\w.-]+)$/.exec(u);
			if (cdn && fs.existsSync(path.join(dist, cdn[1]))) return route.fulfill({ path: path.join(dist, cdn[1]) });
			if (u.startsWith('https://cdn.jsdelivr.net/npm/normalize.css')) return route.fulfill({ status: 200, contentType: 'text/css', body: '' });
			if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
			return route.abort('blockedbyclient');
		});
		const page = await context.newPage();
		await page.goto(chatUrl);
		const input = page.locator('.chat-inputs textarea').first();
		await input.waitFor();
		check(true, 'hosted chat: the public chat page opens (widget from the @n8n/chat npm package)');
		const bot = page.locator('.chat-message-from-bot');
		const user = page.locator('.chat-message-from-user');
		const texts = async (loc) => (await loc.allTextContents()).map((t) => t.trim());
		// The sandbox's answers start with "Turn N" (contextAnswers); the widget's greeting messages do not.
		const answersShown = async () => (await texts(bot)).filter((t) => /^Turn \d/.test(t));
		const answers = [];
		for (const q of CHAT_QUESTIONS) {
			await input.fill(q);
			await input.press('Enter');
			await page.waitForFunction((k) => [...document.querySelectorAll('.chat-message-from-bot')].filter((el) => /^\s*Turn \d/.test(el.textContent || '')).length > k, answers.length, { timeout: 90_000 });
			answers.push((await answersShown())[answers.length]);
		}
		check(answers[1].includes(`following up on "${CHAT_QUESTIONS[0]}"`), 'hosted chat: the second question is answered as a follow-up of the first', answers[1].slice(0, 200));
		screenshots.hostedChat = await shot(page, '21-hosted-chat-memory');
		const sessionId = await page.evaluate(() => localStorage.getItem('n8n-chat/sessionId'));

		await page.reload();
		await input.waitFor();
		await page.waitForFunction((k) => document.querySelectorAll('.chat-message-from-user').length >= k, CHAT_QUESTIONS.length, { timeout: 30_000 }).catch(() => {});
		const usersAfter = await texts(user);
		const botsAfter = await answersShown();
		log(`  after reload (session ${sessionId}): ${usersAfter.length} user and ${botsAfter.length} bot messages`);
		check(
			JSON.stringify(usersAfter) === JSON.stringify(CHAT_QUESTIONS),
			'hosted chat: after a reload, the two questions are shown again (Load Previous Session: From Memory)',
			JSON.stringify(usersAfter).slice(0, 300),
		);
		const same = (a, b) => a.replace(/\s+/g, ' ') === b.replace(/\s+/g, ' ');
		check(
			botsAfter.length === answers.length && botsAfter.every((b, i) => same(b, answers[i])),
			'hosted chat: after a reload, the two answers are shown again, as they were',
			JSON.stringify({ before: answers.map((a) => a.slice(0, 80)), after: botsAfter.map((a) => a.slice(0, 80)) }),
		);
		screenshots.hostedChatReloaded = await shot(page, '22-hosted-chat-memory-reloaded');
		await context.close();
	} catch (e) {
		screenshots.failure = await failureShot(browser, shot, '98-hosted-chat-failure');
		throw e;
	} finally {
		sandbox.setStreamBehaviour({});
		await browser.close().catch(() => {});
	}
	return screenshots;
}

/** A workflow open in the editor, fitted to the view: the screenshot for the README (e.g. docs/chat-with-memory.png). */
async function workflowScreenshot({ n8n, owner, workflowId, name, check, log, artifactsDir, repo }) {
	const { browser, shot } = await launchBrowser({ repo, log, artifactsDir });
	const screenshots = {};
	try {
		const context = await n8nContext(browser, n8n);
		const page = await context.newPage();
		await page.setViewportSize({ width: 1200, height: 640 });
		await signIn(page, n8n, owner);
		await page.goto(`${n8n.url}/workflow/${workflowId}`);
		await page.locator('[data-test-id="canvas-node"]').first().waitFor();
		// n8n 2.x shows a "Production Checklist" over a published workflow: its close button is the first button
		// of the panel that holds the title and the checklist's items.
		await page.waitForTimeout(1500);
		const closed = await page.evaluate(() => {
			const title = [...document.querySelectorAll('body *')].find((el) => el.children.length === 0 && el.textContent.trim() === 'Production Checklist');
			for (let box = title?.parentElement; box; box = box.parentElement) {
				if (!/error notifications/i.test(box.textContent || '')) continue;
				const button = box.querySelector('button');
				if (button) button.click();
				return !!button;
			}
			return false;
		});
		if (!closed) log('  (no Production Checklist panel to close)');
		for (const btn of await page.locator('.el-notification__closeBtn').all()) await btn.click({ timeout: 2000 }).catch(() => {});
		await page.waitForTimeout(500);
		await page.keyboard.press('Escape');
		// Zoom to fit: the canvas button, else its shortcut.
		await page.locator('[data-test-id="zoom-to-fit"]').click({ timeout: 3000 }).catch(() => page.keyboard.press('1'));
		await page.waitForTimeout(800);
		const nodes = await page.locator('[data-test-id="canvas-node"]').count();
		const edges = await page.locator('.vue-flow__edge').count();
		// The handle labels: the Chat Trigger's "Memory*" input, the memory's "Memory" output and Ask's "Memory" input.
		const memoryLabels = await page.getByText(/^Memory\*?$/).count();
		check(nodes === 3 && edges === 3 && memoryLabels === 3, 'editor: chat-with-memory shows 3 nodes, 3 connections and a Memory input on Ask (3 "Memory" handles)', `${nodes} nodes, ${edges} connections, ${memoryLabels} "Memory" handle labels`);
		screenshots.workflow = await shot(page, name);
		await context.close();
	} catch (e) {
		screenshots.failure = await failureShot(browser, shot, '97-workflow-failure');
		throw e;
	} finally {
		await browser.close().catch(() => {});
	}
	return screenshots;
}

module.exports = { runBrowserChatTests, runHostedChatMemoryTest, workflowScreenshot };

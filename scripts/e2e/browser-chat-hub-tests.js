'use strict';
// n8n's Chat (Chat Hub) in Chromium (issue #17 point 4): open /home/chat/workflow-agents, pick the published
// LlamaCloud agent, ask a question and read the answer at two moments while it grows (and the push
// connection's chatHubStreamChunk frames), then a follow-up answered with the conversation's context.
const { launchBrowser, n8nContext, signIn, failureShot } = require('./browser-tests');
const { AGENT_NAME, FIRST, FOLLOW_UP } = require('./chat-hub-tests');

/** Slow enough that the answer is seen growing (about 1.5 s for the sandbox's answer). */
const DELTA_DELAY_MS = 100;

async function runBrowserChatHubTests(ctx) {
	const { n8n, sandbox, check, log, artifactsDir, owner, repo } = ctx;
	const { browser, shot } = await launchBrowser({ repo, log, artifactsDir });
	const result = { screenshots: {} };
	sandbox.setStreamBehaviour({ contextAnswers: true, deltaDelayMs: DELTA_DELAY_MS });
	const session = async () => {
		const context = await n8nContext(browser, n8n);
		const page = await context.newPage();
		// The push connection: the Chat gets its streamed chunks as chatHubStreamChunk messages.
		const frames = [];
		page.on('websocket', (ws) => ws.on('framereceived', (f) => {
			const text = typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8');
			if (text.includes('chatHubStream')) frames.push({ at: performance.now(), text });
		}));
		await signIn(page, n8n, owner);
		await page.goto(`${n8n.url}/home/chat/workflow-agents`);
		const card = page.locator('[data-test-id="chat-agent-card"]').filter({ hasText: AGENT_NAME }).first();
		await card.waitFor({ timeout: 30_000 });
		check(true, `browser chat hub: "${AGENT_NAME}" is listed under Workflow agents`);
		result.screenshots.agents = await shot(page, '20-chat-hub-agents');
		await card.click();
		const input = page.getByPlaceholder(`Message ${AGENT_NAME}`).first();
		await input.waitFor();
		check(true, 'browser chat hub: the agent\'s card opens a new chat with it');

		// The last message on the page (messages are [data-test-id="chat-message-<uuid>"]).
		const lastMessage = () => page.evaluate(() => {
			const all = [...document.querySelectorAll('[data-test-id^="chat-message-"]')].filter((e) => /^chat-message-[0-9a-f-]{36}$/.test(e.getAttribute('data-test-id')));
			return all.length ? { id: all[all.length - 1].getAttribute('data-test-id'), count: all.length, text: all[all.length - 1].textContent.trim() } : { count: 0, text: '' };
		});
		const ask = async (question, expected) => {
			const turnsBefore = sandbox.turnTimings.length;
			const framesBefore = frames.length;
			const { count } = await lastMessage();
			await input.fill(question);
			await input.press('Enter');
			// The human message and the bot's message, with some text in it.
			await page.waitForFunction(([n, q]) => {
				const all = [...document.querySelectorAll('[data-test-id^="chat-message-"]')].filter((e) => /^chat-message-[0-9a-f-]{36}$/.test(e.getAttribute('data-test-id')));
				const last = all[all.length - 1];
				return all.length >= n + 2 && !last.textContent.includes(q) && last.textContent.trim().length > 10;
			}, [count, question], { timeout: 30_000 });
			const early = (await lastMessage()).text;
			await page.waitForTimeout(600);
			const later = (await lastMessage()).text;
			const timing = () => sandbox.turnTimings.slice(turnsBefore).find((t) => t.prompt === question);
			for (let i = 0; i < 120 && timing()?.finishedAt === undefined; i++) await page.waitForTimeout(250);
			await page.waitForFunction((e) => {
				const all = [...document.querySelectorAll('[data-test-id^="chat-message-"]')].filter((el) => /^chat-message-[0-9a-f-]{36}$/.test(el.getAttribute('data-test-id')));
				return all[all.length - 1].textContent.includes(e);
			}, 'Sources', { timeout: 30_000 }).catch(() => {});
			const final = (await lastMessage()).text;
			const t = timing();
			const chunkFrames = frames.slice(framesBefore).filter((f) => f.text.includes('chatHubStreamChunk'));
			const early2 = t ? chunkFrames.filter((f) => f.at < t.finishedAt).length : 0;
			return { early, later, final, chunkFrames: chunkFrames.length, framesBeforeFinished: early2, expected };
		};
		const first = await ask(FIRST);
		check(
			first.early.length > 0 && first.later.length > first.early.length,
			'browser chat hub: the answer grows while it is written (text at two moments)',
			`early (${first.early.length} chars): ${JSON.stringify(first.early.slice(0, 120))}; later (${first.later.length} chars): ${JSON.stringify(first.later.slice(0, 160))}`,
		);
		check(first.framesBeforeFinished > 1, 'browser chat hub: chatHubStreamChunk frames reached the browser before LlamaCloud finished the answer',
			`${first.chunkFrames} chunk frames, ${first.framesBeforeFinished} before the turn finished`);
		log(`  answer at two moments: ${first.early.length} → ${first.later.length} characters; ${first.chunkFrames} push chunk frames (${first.framesBeforeFinished} while LlamaCloud wrote)`);
		check(/Q3 revenue grew 12%/.test(first.final) && /Sources/.test(first.final), 'browser chat hub: the full answer with its sources is shown', first.final.slice(0, 300));
		const second = await ask(FOLLOW_UP);
		check(second.final.includes(`Turn 2, following up on "${FIRST}"`), 'browser chat hub: the follow-up is answered with the conversation\'s context', second.final.slice(0, 300));
		await page.waitForTimeout(500);
		result.screenshots.chat = await shot(page, '21-chat-hub-conversation');
		await context.close();
	};
	// On failure: a screenshot of whatever page is open; in any case the browser closes and the sandbox is reset.
	const failure = await session().then(
		() => undefined,
		async (e) => {
			result.screenshots.failure = await failureShot(browser, shot, '99-chat-hub-failure');
			return e;
		},
	);
	sandbox.setStreamBehaviour({});
	await browser.close().catch(() => {});
	if (failure) throw failure;
	return result;
}

module.exports = { runBrowserChatHubTests };

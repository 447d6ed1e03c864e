'use strict';
// Editor test in Debian's Chromium driven by playwright-core: sign in, open an imported workflow,
// open the LlamaCloud Chat node panel, check its parameters (and that the index list loads from the
// sandbox), close it, run the workflow from the UI, check the toast and the node output.
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');

const { CHROMIUM, ensureChromium } = require('./lib/chromium');
const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage',
];

function loadPlaywright(repo) {
	try {
		return require(require.resolve('playwright-core', { paths: [repo] }));
	} catch {
		throw new Error('playwright-core is not installed (npm install --save-dev playwright-core)');
	}
}

/** The workflow to click through: an example asking/creating with indexes, else the e2e ask fixture. */
function pickWorkflow(workflows) {
	const usable = workflows.filter((w) => !w.skipped && W.cliStartNode(w.wf) && !w.wf.meta?.e2e?.expect?.error && !w.wf.meta?.e2e?.expect?.deletesAllSessions);
	const score = (w) => {
		const lc = w.wf.nodes.filter((n) => n.type === W.NODE_TYPE);
		const withIndexes = lc.find((n) => Array.isArray(n.parameters?.indexIds) && n.parameters.indexIds.length > 0);
		return (w.kind === 'example' ? 2 : 0) + (withIndexes ? 4 : 0) + (lc.some((n) => n.parameters?.operation === 'ask') ? 1 : 0) - (w.runFailed ? 10 : 0);
	};
	return usable.sort((a, b) => score(b) - score(a))[0];
}

function optionName(nodeType, param, value) {
	const props = (nodeType?.properties || []).filter((p) => p.name === param);
	for (const p of props) {
		const o = (p.options || []).find((x) => x.value === value);
		if (o) return o.name;
	}
	return undefined;
}

async function runBrowserTests(ctx) {
	const { n8n, sandbox, check, log, artifactsDir, owner, workflows, repo, nodeTypes } = ctx;
	const target = pickWorkflow(workflows);
	if (!check(target, 'browser: a workflow to open', 'no runnable workflow was imported')) return {};
	const lcNode = target.wf.nodes.find((n) => n.type === W.NODE_TYPE && Array.isArray(n.parameters?.indexIds)) || target.wf.nodes.find((n) => n.type === W.NODE_TYPE);
	log(`  workflow "${target.wf.name}" (${target.file}), node "${lcNode.name}"`);
	const nodeType = (nodeTypes || []).find((t) => t.name === W.NODE_TYPE);

	const { browser, shot } = await launchBrowser({ repo, log, artifactsDir });
	const result = { screenshots: {} };
	const consoleErrors = [];
	try {
		const context = await n8nContext(browser, n8n);
		const page = await context.newPage();
		page.on('console', (m) => {
			if (m.type() === 'error') consoleErrors.push(m.text());
		});

		// 1. sign in through the form
		await signIn(page, n8n, owner);
		check(true, 'browser: signed in through the form');

		// 2. open the workflow
		await page.goto(`${n8n.url}/workflow/${target.id}`);
		const canvasNodes = page.locator('[data-test-id="canvas-node"]');
		await canvasNodes.first().waitFor();
		const expectedNodes = target.wf.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote').length;
		await page.waitForFunction((n) => document.querySelectorAll('[data-test-id="canvas-node"]').length >= n, expectedNodes, { timeout: 20_000 }).catch(() => {});
		check((await canvasNodes.count()) >= expectedNodes, `browser: canvas shows the ${expectedNodes} nodes`, `shows ${await canvasNodes.count()}`);
		const lcCanvas = canvasNodes.filter({ hasText: lcNode.name }).first();
		check((await lcCanvas.count()) > 0, `browser: node "${lcNode.name}" is on the canvas`, 'not found');
		result.screenshots.canvas = await shot(page, '01-canvas');

		// 3. node panel: parameters render, index list comes from the sandbox
		await lcCanvas.dblclick();
		const ndv = page.locator('[data-test-id="ndv"]');
		await ndv.waitFor();
		await page.locator('[data-test-id="node-parameters"]').waitFor();
		const resource = await page.locator('[data-test-id="parameter-input-resource"] input').first().inputValue().catch(() => '');
		const operation = await page.locator('[data-test-id="parameter-input-operation"] input').first().inputValue().catch(() => '');
		const wantResource = optionName(nodeType, 'resource', lcNode.parameters.resource ?? nodeType?.properties?.find((p) => p.name === 'resource')?.default);
		const wantOperation = optionName(nodeType, 'operation', lcNode.parameters.operation);
		check(resource && (!wantResource || resource === wantResource), `browser: Resource shows "${wantResource ?? '?'}"`, `shows "${resource}"`);
		check(operation && (!wantOperation || operation === wantOperation), `browser: Operation shows "${wantOperation ?? '?'}"`, `shows "${operation}"`);
		const credText = await page.locator('[data-test-id="node-credentials-select"]').first().textContent().catch(() => '');
		const credValue = await page.locator('[data-test-id="node-credentials-select"] input').first().inputValue().catch(() => '');
		check(`${credText} ${credValue}`.includes('LlamaCloud account'), 'browser: credential "LlamaCloud account" is selected', `shows "${credText}${credValue}"`);
		result.screenshots.params = await shot(page, '02-node-panel');

		const indexParam = page.locator('[data-test-id="parameter-input-indexIds"]');
		if (await indexParam.count()) {
			const loadsBefore = sandbox.requests.filter((q) => q.method === 'GET' && q.path === '/api/v1/indexes').length;
			const names = await sandboxIndexNames(sandbox);
			const dropdown = page.locator('.el-select-dropdown__item:visible');
			// Element Plus selects open on a click on the field; which inner element takes it varies, so try
			// a few, never clicking again once the list is open (a second click closes it).
			const targets = ['.el-select__caret', '.el-input__wrapper', '.el-select__wrapper', '.el-select__tags', '.el-select'];
			for (let attempt = 0; attempt < 6; attempt++) {
				if (await dropdown.count()) break;
				const t = indexParam.locator(targets[attempt % targets.length]).first();
				if (await t.count()) await t.click({ timeout: 5000 }).catch(() => {});
				await dropdown.first().waitFor({ timeout: 4000 }).catch(() => {});
			}
			const shown = (await dropdown.allTextContents()).map((s) => s.trim());
			const missing = names.filter((nm) => !shown.some((s) => s.includes(nm)));
			check(missing.length === 0, `browser: index list shows the sandbox's ${names.length} indexes`, `missing ${missing.join(', ')}; shown ${JSON.stringify(shown)}`);
			const loads = sandbox.requests.filter((q) => q.method === 'GET' && q.path === '/api/v1/indexes').length;
			check(loads > 0 || loadsBefore > 0, 'browser: index list was loaded from the sandbox', 'no GET /api/v1/indexes');
			result.screenshots.indexes = await shot(page, '03-index-list');
			await page.keyboard.press('Escape');
			await page.waitForTimeout(300);
		} else {
			log('  (node panel has no Index parameter for this operation)');
		}

		// 4. close the panel
		if (await ndv.isVisible()) {
			await page.locator('[data-test-id="ndv-close-button"]').first().click().catch(() => page.keyboard.press('Escape'));
		}
		await ndv.waitFor({ state: 'hidden', timeout: 10_000 });
		check(true, 'browser: node panel closes');

		// 5. run the workflow from the UI
		const before = { ...sandbox.stats };
		await page.locator('[data-test-id="execute-workflow-button"]').first().click();
		const toast = page.locator('.el-notification').filter({ hasText: /executed successfully|problem|error|failed/i }).first();
		await toast.waitFor({ timeout: 90_000 });
		const toastText = (await toast.textContent())?.trim() ?? '';
		result.screenshots.executed = await shot(page, '04-executed');
		check(/executed successfully/i.test(toastText), 'browser: "Workflow executed successfully" toast', `toast: "${toastText}"`);
		const turns = sandbox.stats.turnsCompleted - before.turnsCompleted;
		const created = sandbox.stats.sessionsCreated - before.sessionsCreated;
		log(`  UI run: toast "${toastText}", sandbox +${created} sessions, +${turns} turns`);
		check(created + turns > 0 || sandbox.requests.length > 0, 'browser: the UI run reached the sandbox', 'no sandbox activity');

		// 6. the node's output in its panel
		await lcCanvas.dblclick();
		await ndv.waitFor();
		const output = page.locator('[data-test-id="output-panel"]');
		await output.waitFor();
		await output.locator('[data-test-id="radio-button-json"]').first().click({ timeout: 3000 }).catch(() => {});
		await page.waitForTimeout(800);
		const outText = (await output.textContent()) ?? '';
		check(/session_id|ses-/.test(outText), 'browser: output panel shows the node output (session_id)', outText.slice(0, 300));
		if (lcNode.parameters?.operation === 'ask' || lcNode.parameters?.operation === 'send') {
			check(/answer/.test(outText), 'browser: output panel shows the answer', outText.slice(0, 300));
		}
		result.screenshots.output = await shot(page, '05-node-panel-output');
		// For docs: table view, no toasts, only when the run worked.
		await output.locator('[data-test-id="radio-button-table"]').first().click({ timeout: 3000 }).catch(() => {});
		for (const btn of await page.locator('.el-notification__closeBtn').all()) await btn.click({ timeout: 2000 }).catch(() => {});
		await page.waitForTimeout(800);
		const docsShot = await shot(page, '06-node-panel-docs');
		if (/executed successfully/i.test(toastText)) result.screenshots.docs = docsShot;

		const html = await page.content();
		check(!html.includes(sandbox.apiKey), 'browser: the API key is not in the page', 'key found in DOM');
		result.consoleErrors = consoleErrors;
		await context.close();
	} catch (e) {
		result.screenshots.failure = await failureShot(browser, shot, '99-failure');
		throw e;
	} finally {
		await browser.close().catch(() => {});
	}
	return result;
}

/** Debian's Chromium under playwright-core, and `shot(page, name)` saving artifacts/…/screenshots/<name>.png. */
async function launchBrowser({ repo, log, artifactsDir }) {
	const { chromium } = loadPlaywright(repo);
	await ensureChromium({ log });
	const shots = path.join(artifactsDir, 'screenshots');
	fs.mkdirSync(shots, { recursive: true });
	const shot = async (page, name) => {
		const file = path.join(shots, `${name}.png`);
		await page.screenshot({ path: file });
		return file;
	};
	const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
	return { browser, shot };
}

/** A browser context for n8n: only n8n itself is reachable (fonts, telemetry are refused in the browser). */
async function n8nContext(browser, n8n, { deviceScaleFactor = 1 } = {}) {
	const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor });
	context.setDefaultTimeout(30_000);
	context.setDefaultNavigationTimeout(60_000);
	const origin = new URL(n8n.url).origin;
	await context.route('**/*', (route) => {
		const u = route.request().url();
		if (u.startsWith(origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
		return route.abort('blockedbyclient');
	});
	return context;
}

/** Signs in through n8n's form. */
async function signIn(page, n8n, owner) {
	await page.goto(`${n8n.url}/signin`);
	// 2.x gives the inputs these ids; 1.x only these names.
	await page.locator('#emailOrLdapLoginId, input[name="emailOrLdapLoginId"]').first().fill(owner.email);
	await page.locator('#password, input[name="password"]').first().fill(owner.password);
	await page.click('[data-test-id="form-submit-button"]');
	await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 30_000 });
}

/** A screenshot of the first open page after a failure, if there is one. */
async function failureShot(browser, shot, name) {
	try {
		const pages = browser.contexts().flatMap((c) => c.pages());
		return pages[0] ? await shot(pages[0], name) : undefined;
	} catch {
		return undefined;
	}
}

async function sandboxIndexNames(sandbox) {
	const r = await fetch(new URL('/api/v1/indexes', sandbox.url), {
		headers: { authorization: `Bearer ${sandbox.apiKey}` },
		signal: AbortSignal.timeout(10_000),
	});
	const body = await r.json();
	const items = Array.isArray(body) ? body : body.items || [];
	const defaults = items.filter((i) => !i.project_id || i.project_id === sandbox.fixtures.defaultProjectId);
	return defaults.map((i) => i.name);
}

module.exports = { runBrowserTests, CHROMIUM, CHROMIUM_ARGS, launchBrowser, n8nContext, signIn, failureShot };

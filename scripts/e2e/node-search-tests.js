#!/usr/bin/env node
'use strict';
/*
 * Is the node findable in n8n's node panel (issue #16)? In Chromium, in a new workflow: add a Manual
 * Trigger, open the node panel ("+"), search "LlamaCloud", "LlamaIndex" and "RAG"; each lists
 * "LlamaCloud Chat"; choosing it lists its actions. Plus, from /types/nodes.json: the node's codex (category
 * Data & Storage, the aliases searched for) and the AI Agent tool variant's AI → Tools codex.
 *
 *   node scripts/e2e/node-search-tests.js [--n8n-version X.Y.Z] [--package-dir DIR] [--keep]
 *     alone: its own n8n (the cached runtime), the built package (dist/ of DIR, default this repo), owner,
 *     then the checks above.
 * In `npm run test:e2e` (run.js): after the editor step in the main version, and in every other version of
 * the matrix after its CLI part (runNodeSearchInstance: n8n start, owner setup + login, the checks, stop).
 * Selectors are n8n's data-test-id attributes, the same in n8n 1.85 to 2.41 (see scripts/e2e/README.md).
 */
const fs = require('node:fs');
const path = require('node:path');
const W = require('./lib/workflows');

const DISPLAY_NAME = 'LlamaCloud Chat';
const SEARCHES = ['LlamaCloud', 'LlamaIndex', 'RAG'];
/** Actions the node panel must list for the node; the rest come from the node's own description. */
const MUST_HAVE_ACTIONS = ['Answer a question from your documents', 'Send a message'];

// A result row is an item-iterator-item whose keyboard-navigation type says what it is: its inner
// data-test-id is not a guide (2.x marks a node that has actions "node-creator-action-item" in search results).
const T = {
	creator: '[data-test-id="node-creator"]',
	search: '[data-test-id="node-creator-search-bar"]',
	nodeItem: '[data-test-id="item-iterator-item"][data-keyboard-nav-type="node"]',
	actionItem: '[data-test-id="item-iterator-item"][data-keyboard-nav-type="action"]',
	itemName: '[data-test-id="node-creator-item-name"]',
	plus: '[data-test-id="node-creator-plus-button"]',
	addFirst: '[data-test-id="canvas-add-button"]',
	canvasNode: '[data-test-id="canvas-node"]',
	ndv: '[data-test-id="ndv"]',
};

/** Every `action` label of the node's operations, from its description as n8n serves it. */
function actionLabels(nodeType) {
	return (nodeType?.properties || [])
		.filter((p) => p.name === 'operation')
		.flatMap((p) => (p.options || []).map((o) => o.action))
		.filter(Boolean);
}

/** The codex checks, against /types/nodes.json: what n8n's panel search reads. */
function checkCodex({ nodeTypes, check }) {
	const plain = (nodeTypes || []).find((t) => t.name === W.NODE_TYPE);
	const tool = (nodeTypes || []).find((t) => t.name === `${W.NODE_TYPE}Tool`);
	const codex = plain?.codex || {};
	check(
		JSON.stringify(codex.categories) === JSON.stringify(['Data & Storage']),
		'node search: the node\'s codex category is "Data & Storage" alone (an "AI" category without AI subcategories hides it from the search)',
		JSON.stringify(codex.categories),
	);
	const aliases = codex.alias || [];
	const missing = SEARCHES.filter((s) => !aliases.includes(s) && !plain?.displayName?.includes(s));
	check(missing.length === 0, `node search: every searched word is the name or an alias (${SEARCHES.join(', ')})`, `missing ${missing.join(', ')}; aliases ${JSON.stringify(aliases)}`);
	const tc = tool?.codex || {};
	check(
		tc.categories?.includes('AI') && (tc.subcategories?.AI || []).includes('Tools'),
		`node search: the tool variant ${W.NODE_TYPE}Tool keeps the AI → Tools codex (where AI Agents look for tools)`,
		JSON.stringify(tc),
	);
}

/** Names of the panel's rows of one kind (T.nodeItem or T.actionItem), as shown. */
async function names(page, itemSelector) {
	return page.evaluate(
		({ creator, item, name }) => [...document.querySelectorAll(`${creator} ${item}`)].map((el) => (el.querySelector(name) || el).textContent.trim()),
		{ creator: T.creator, item: itemSelector, name: T.itemName },
	);
}

/** Wait (up to timeoutMs) until the rows of a kind do / do not include `name`; returns the rows then. */
async function waitForRows(page, itemSelector, name, { present = true, timeoutMs = 15_000 } = {}) {
	await page
		.waitForFunction(
			({ creator, item, nameSel, want, present }) => {
				const rows = [...document.querySelectorAll(`${creator} ${item}`)].map((el) => (el.querySelector(nameSel) || el).textContent.trim());
				return rows.includes(want) === present;
			},
			{ creator: T.creator, item: itemSelector, nameSel: T.itemName, want: name, present },
			{ timeout: timeoutMs, polling: 200 },
		)
		.catch(() => {});
	return names(page, itemSelector);
}

/**
 * Search the panel for `term`: first the search is emptied until the node is no longer listed (so a
 * result is never left over from the search before), then `term` is typed. Returns the node rows listed.
 */
async function search(page, term) {
	const input = page.locator(T.search).first();
	await input.fill('');
	await waitForRows(page, T.nodeItem, DISPLAY_NAME, { present: false });
	await input.fill(term);
	return waitForRows(page, T.nodeItem, DISPLAY_NAME);
}

/** A screenshot of the panel, cut below the search results (for docs/node-search.png). */
async function panelShot(page, file) {
	await page.waitForTimeout(500); // hover and transition effects settle
	const panel = await page.locator(T.creator).first().boundingBox();
	const rows = await page.locator(`${T.creator} ${T.nodeItem}`).evaluateAll((els) => els.map((e) => e.getBoundingClientRect().bottom));
	const bottom = Math.min(panel.y + panel.height, Math.max(panel.y + 200, ...rows) + 24);
	await page.screenshot({ path: file, clip: { x: panel.x, y: panel.y, width: panel.width, height: bottom - panel.y } });
	return file;
}

/** New workflow with a Manual Trigger added through the node panel; leaves the panel closed. */
async function newWorkflowWithManualTrigger(page, n8n) {
	await page.goto(`${n8n.url}/workflow/new`);
	const addFirst = page.locator(T.addFirst).first();
	await addFirst.waitFor({ timeout: 60_000 });
	await addFirst.click();
	await page.locator(T.search).first().waitFor();
	await page.locator(T.search).first().fill('Manual Trigger');
	const manual = page.locator(`${T.creator} ${T.nodeItem}`).filter({ hasText: /Trigger manually|Manual Trigger/ }).first();
	await manual.click();
	await page.locator(T.canvasNode).first().waitFor();
	// Some versions open the new node's panel: close it.
	if (await page.locator(T.ndv).first().isVisible().catch(() => false)) {
		await page.keyboard.press('Escape');
		await page.locator(T.ndv).first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
	}
	await page.locator(T.creator).first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => {});
	return page.locator(T.canvasNode).count();
}

/**
 * The browser checks, on a running n8n with the package and an owner. Returns { screenshots: { search } }.
 */
async function runNodeSearchTests(ctx) {
	const { n8n, check, log, artifactsDir, owner, repo, nodeTypes, label = '' } = ctx;
	const { launchBrowser, n8nContext, signIn, failureShot } = require('./browser-tests');
	if (nodeTypes) checkCodex({ nodeTypes, check });
	const nodeType = (nodeTypes || []).find((t) => t.name === W.NODE_TYPE);
	const { browser, shot } = await launchBrowser({ repo, log, artifactsDir });
	const prefix = `node-search${label ? `-${label}` : ''}`;
	const result = { screenshots: {} };
	try {
		const context = await n8nContext(browser, n8n, { deviceScaleFactor: 2 });
		const page = await context.newPage();
		await signIn(page, n8n, owner);

		const onCanvas = await newWorkflowWithManualTrigger(page, n8n);
		check(onCanvas === 1, 'node search: a new workflow with a Manual Trigger (added through the node panel)', `${onCanvas} nodes on the canvas`);

		await page.locator(T.plus).first().click();
		await page.locator(T.search).first().waitFor();
		for (const term of SEARCHES) {
			const found = await search(page, term);
			log(`  search "${term}": ${found.length} results: ${found.slice(0, 8).join(', ')}${found.length > 8 ? ', …' : ''}`);
			check(found.includes(DISPLAY_NAME), `node search: "${term}" lists "${DISPLAY_NAME}"`, `results: ${JSON.stringify(found)}`);
			if (term === SEARCHES[0]) result.screenshots.search = await panelShot(page, path.join(artifactsDir, 'screenshots', `${prefix}-${term}.png`));
		}

		// Choose it from the results of the first search: its actions are listed.
		await search(page, SEARCHES[0]);
		await page.locator(`${T.creator} ${T.nodeItem}`).filter({ hasText: DISPLAY_NAME }).first().click();
		const expected = [...new Set([...MUST_HAVE_ACTIONS, ...actionLabels(nodeType)])];
		const actions = await waitForRows(page, T.actionItem, expected[expected.length - 1]);
		log(`  actions listed: ${actions.join(', ')}`);
		const missing = expected.filter((a) => !actions.includes(a));
		check(missing.length === 0, `node search: choosing "${DISPLAY_NAME}" lists its ${expected.length} actions (Ask, Send and the session actions)`, `missing ${JSON.stringify(missing)}; listed ${JSON.stringify(actions)}`);
		await page.waitForTimeout(1000); // the details panel slides in
		result.screenshots.actions = await shot(page, `${prefix}-actions`);
		await context.close();
	} catch (e) {
		result.screenshots.failure = await failureShot(browser, shot, `${prefix}-99-failure`);
		throw e;
	} finally {
		await browser.close().catch(() => {});
	}
	return result;
}

/**
 * On an n8n instance that is not running yet (its user folder holds the package): start it, set up the
 * owner and log in, the node-search checks, stop it.
 */
async function runNodeSearchInstance({ inst, check, log, artifactsDir, repo, label }) {
	const { setupAndLogin, OWNER } = require('./rest-tests');
	const { ms } = await inst.start();
	log(`  ${inst.url} ready in ${ms} ms`);
	try {
		const rest = await setupAndLogin(inst);
		const nodeTypes = (await rest.get('/types/nodes.json')).json;
		return await runNodeSearchTests({ n8n: inst, check, log, artifactsDir, owner: OWNER, repo, nodeTypes, label });
	} finally {
		await inst.stop();
	}
}

async function main() {
	const args = process.argv.slice(2);
	const version = args.includes('--n8n-version') ? args[args.indexOf('--n8n-version') + 1] : undefined;
	const keep = args.includes('--keep');
	const packageDir = args.includes('--package-dir') ? path.resolve(args[args.indexOf('--package-dir') + 1]) : undefined;
	const { REPO, ensureRuntime, installPackage, N8nInstance, makeTempDir } = require('./lib/n8n');
	const { installExitHooks, killAllSync } = require('./lib/proc');
	const { createReport } = require('./lib/report');
	const artifactsDir = path.join(REPO, 'artifacts', 'e2e-node-search');
	fs.mkdirSync(path.join(artifactsDir, 'screenshots'), { recursive: true });
	const workDir = makeTempDir('n8n-llamacloud-node-search-');
	const userFolder = path.join(workDir, 'user');
	fs.mkdirSync(userFolder);
	installExitHooks();
	const { check, step, summary } = createReport();
	const t0 = Date.now();
	try {
		const runtime = await ensureRuntime({ version });
		await installPackage({ packageDir, userFolder, workDir, logFile: path.join(artifactsDir, 'npm-pack.log') });
		const inst = new N8nInstance({ runtime, userFolder, artifactsDir, name: `n8n-${runtime.N8N_RUNTIME_N8N_VERSION}` });
		await step(`node search (n8n ${runtime.N8N_RUNTIME_N8N_VERSION})`, () =>
			runNodeSearchInstance({ inst, check, log: console.log, artifactsDir, repo: REPO, label: runtime.N8N_RUNTIME_N8N_VERSION }),
		);
	} finally {
		killAllSync();
		if (!keep) fs.rmSync(workDir, { recursive: true, force: true });
	}
	return summary({ t0, logsDir: path.relative(REPO, artifactsDir), title: 'node search' });
}

if (require.main === module) {
	main().then(
		(code) => process.exit(code),
		(err) => {
			console.error(err.stack || err.message);
			process.exit(1);
		},
	);
}

module.exports = { runNodeSearchTests, runNodeSearchInstance, checkCodex, SEARCHES, DISPLAY_NAME };

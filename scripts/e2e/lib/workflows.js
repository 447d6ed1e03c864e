'use strict';
// Loading example workflows, filling in their placeholders, and reading `n8n execute` output.
const fs = require('node:fs');
const path = require('node:path');

const NODE_TYPE = 'n8n-nodes-llamacloud-chat.llamaCloudChat';
const CREDENTIAL_TYPE = 'llamaCloudApi';
const WEBHOOK_TYPE = 'n8n-nodes-base.webhook';
const CLI_START_TYPES = ['n8n-nodes-base.manualTrigger', '@n8n/n8n-nodes-langchain.manualChatTrigger', 'n8n-nodes-base.executeWorkflowTrigger'];

function listWorkflowFiles(dir) {
	if (!fs.existsSync(dir)) return [];
	return fs
		.readdirSync(dir)
		.filter((f) => f.endsWith('.json'))
		.sort()
		.map((f) => path.join(dir, f));
}

/**
 * Fill placeholders (LLAMACLOUD_*) and point every llamaCloudApi credential reference at the imported
 * credential. `values` maps placeholder -> replacement; an unknown LLAMACLOUD_* token is an error.
 * `id` gives the copy an id of its own; without it the file's own id is kept, and a file without one is
 * an error (`n8n import:workflow --input=<file>` stops on it: "NOT NULL constraint failed: workflow_entity.id").
 */
function prepareWorkflow(file, { id, values, credential }) {
	const raw = fs.readFileSync(file, 'utf8');
	const unknown = new Set();
	const filled = raw.replace(/\bLLAMACLOUD_[A-Z0-9_]+\b/g, (token) => {
		if (token in values) return values[token];
		unknown.add(token);
		return token;
	});
	if (unknown.size) {
		throw new Error(`${path.basename(file)}: unknown placeholder(s) ${[...unknown].join(', ')} (known: ${Object.keys(values).join(', ')})`);
	}
	const wf = JSON.parse(filled);
	if (!Array.isArray(wf.nodes)) throw new Error(`${path.basename(file)}: not a workflow (no "nodes" array)`);
	for (const node of wf.nodes) {
		const ref = node.credentials?.[CREDENTIAL_TYPE];
		if (ref && ref.id !== values.LLAMACLOUD_WRONG_KEY_CREDENTIAL_ID) {
			node.credentials[CREDENTIAL_TYPE] = { id: credential.id, name: credential.name };
		}
	}
	if (id) wf.id = id;
	if (!wf.id) throw new Error(`${path.basename(file)}: no workflow "id" (n8n import:workflow --input=<file> fails without one)`);
	wf.active = false;
	wf.connections = wf.connections || {};
	wf.settings = wf.settings || {};
	return wf;
}

/** Replace the workflow's (non-manual) trigger by a Manual Trigger; returns the replaced node or undefined. */
function useManualTrigger(wf) {
	if (cliStartNode(wf)) return undefined;
	const targets = new Set();
	for (const outs of Object.values(wf.connections || {})) {
		for (const list of Object.values(outs)) for (const conns of list || []) for (const c of conns || []) targets.add(c.node);
	}
	const trigger = wf.nodes.find((n) => /trigger$/i.test(n.type) && !targets.has(n.name));
	if (!trigger) return undefined;
	const original = { name: trigger.name, type: trigger.type };
	trigger.type = 'n8n-nodes-base.manualTrigger';
	trigger.typeVersion = 1;
	trigger.parameters = {};
	return original;
}

/**
 * Make the workflow start at a production Webhook (POST /webhook/<path>, answering with the last node's
 * items) in place of its trigger (same name and position), for queue-mode runs where only triggered
 * executions go to workers. Returns the replaced trigger { name, type } (undefined when it already starts
 * at a Webhook).
 */
function useWebhookTrigger(wf, webhookPath) {
	const existing = wf.nodes.find((n) => n.type === WEBHOOK_TYPE);
	if (existing) {
		existing.parameters = { ...existing.parameters, path: webhookPath };
		existing.webhookId = webhookPath;
		return undefined;
	}
	const targets = new Set();
	for (const outs of Object.values(wf.connections || {})) {
		for (const list of Object.values(outs)) for (const conns of list || []) for (const c of conns || []) targets.add(c.node);
	}
	const trigger = wf.nodes.find((n) => /trigger$/i.test(n.type) && !targets.has(n.name));
	if (!trigger) throw new Error(`${wf.name}: no trigger to replace with a Webhook`);
	const original = { name: trigger.name, type: trigger.type };
	Object.assign(trigger, {
		type: WEBHOOK_TYPE,
		typeVersion: 2,
		webhookId: webhookPath,
		parameters: { httpMethod: 'POST', path: webhookPath, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
	});
	return original;
}

/**
 * Point every reference to a credential of the given types at an imported credential, e.g.
 * { redis: { id, name } } for the Redis Chat Memory of a chat example.
 */
function pointCredentials(wf, byType) {
	for (const node of wf.nodes) {
		for (const [type, credential] of Object.entries(byType)) {
			if (node.credentials?.[type]) node.credentials[type] = { id: credential.id, name: credential.name };
		}
	}
	return wf;
}

function cliStartNode(wf) {
	return wf.nodes.find((n) => CLI_START_TYPES.includes(n.type));
}

/**
 * `n8n execute --rawOutput` prints the run (IRun) as pretty JSON through the logger, between other log
 * lines. Top-level braces of pretty JSON sit alone at column 0; take the last block that parses.
 */
function parseRunOutput(text) {
	const lines = text.split('\n');
	let found;
	for (let i = 0; i < lines.length; i++) {
		if (lines[i] !== '{') continue;
		for (let j = i + 1; j < lines.length; j++) {
			if (lines[j] === '}') {
				try {
					const obj = JSON.parse(lines.slice(i, j + 1).join('\n'));
					if (obj && (obj.data?.resultData || obj.resultData)) found = obj;
				} catch {
					/* not it */
				}
				i = j;
				break;
			}
		}
	}
	return found;
}

/** Items a node produced on output 0 in its first run. */
function outputItems(run, nodeName) {
	const r = run.data.resultData.runData[nodeName]?.[0];
	return r?.data?.main?.[0] ?? [];
}

/** Items a node received (from its source node's output), first run. */
function inputItems(run, nodeName) {
	const r = run.data.resultData.runData[nodeName]?.[0];
	const src = r?.source?.[0];
	if (!src) return [];
	const prev = run.data.resultData.runData[src.previousNode]?.[src.previousNodeRun ?? 0];
	return prev?.data?.main?.[src.previousNodeOutput ?? 0] ?? [];
}

function pairedIndexes(item) {
	const p = item.pairedItem;
	if (p === undefined || p === null) return [];
	if (typeof p === 'number') return [p];
	if (Array.isArray(p)) return p.map((x) => (typeof x === 'number' ? x : x.item));
	return [p.item];
}

function toRegExp(pattern) {
	if (pattern.startsWith('(?i)')) return new RegExp(pattern.slice(4), 'i');
	return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

module.exports = {
	NODE_TYPE,
	CREDENTIAL_TYPE,
	listWorkflowFiles,
	prepareWorkflow,
	cliStartNode,
	useManualTrigger,
	useWebhookTrigger,
	pointCredentials,
	parseRunOutput,
	outputItems,
	inputItems,
	pairedIndexes,
	toRegExp,
};

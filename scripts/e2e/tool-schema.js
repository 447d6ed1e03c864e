'use strict';
// What an AI Agent sees of the node, derived by the n8n under test itself: the tool variant served at
// /types/nodes.json (n8n's own conversion of `usableAsTool`), the parameters n8n gives a freshly added
// Ask node (n8n-workflow's NodeHelpers.getNodeParameters), the tool schema n8n-core builds from them
// (the `$fromAI` arguments, as for an agent's tool call) and the tool's automatic description.
// Runs in the runtime's Node.js, inside the n8n install, so every piece is that n8n's code.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { run } = require('./lib/proc');

const DERIVE = `
const { NodeHelpers } = require('n8n-workflow');
const { getSchema } = require('n8n-core/dist/execution-engine/node-execution-context/utils/create-node-as-tool');
{
	const { types, values } = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'));
	const out = {};
	for (const [label, description] of Object.entries(types)) {
		const version = Array.isArray(description.version) ? Math.max(...description.version) : description.version;
		const parameters = NodeHelpers.getNodeParameters(description.properties, values, true, false, { typeVersion: version, parameters: {} }, description);
		const node = { id: '1', name: 'LlamaCloud Chat', type: description.name, typeVersion: version, position: [0, 0], parameters };
		const schema = getSchema(node);
		out[label] = {
			prompt: parameters.prompt,
			arguments: Object.fromEntries(Object.entries(schema.shape).map(([key, value]) => [key, value.description ?? null])),
			toolDescription: NodeHelpers.getToolDescriptionForNode(node, { description }),
		};
	}
	process.stdout.write(JSON.stringify(out));
}
`;

/**
 * @param {object} o
 * @param {object} o.plain   the node's type description from /types/nodes.json
 * @param {object} o.tool    its tool variant from /types/nodes.json
 * @param {object} o.runtime the n8n runtime (N8N_NODE, N8N_BIN)
 */
async function checkToolSchema({ plain, tool, runtime, check, log }) {
	const n8nDir = path.dirname(path.dirname(runtime.N8N_BIN));
	const values = { resource: 'message', operation: 'ask', indexIds: ['idx-q3-reports'] };
	const inputFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'llamacloud-tool-')), 'types.json');
	fs.writeFileSync(inputFile, JSON.stringify({ types: { plain, tool }, values }));
	const r = await run(runtime.N8N_NODE, ['-e', DERIVE, inputFile], { cwd: n8nDir, timeoutMs: 60_000 });
	fs.rmSync(path.dirname(inputFile), { recursive: true, force: true });
	let derived;
	try {
		derived = JSON.parse(r.stdout);
	} catch {
		check(false, 'AI tool: n8n derived the tool schema', `${r.stderr}`.slice(-600));
		return;
	}
	const { TOOL_PROMPT_DESCRIPTION } = require(path.join(__dirname, '..', '..', 'dist', 'nodes', 'LlamaCloudChat', 'actions', 'message', 'ask.operation.js'));
	log(`  tool schema (n8n ${runtime.N8N_RUNTIME_N8N_VERSION}): ${JSON.stringify(derived.tool.arguments)}; description: ${derived.tool.toolDescription}`);
	check(
		JSON.stringify(derived.tool.arguments) === JSON.stringify({ prompt: TOOL_PROMPT_DESCRIPTION }),
		"AI tool: n8n's tool schema for Ask has one argument, 'prompt', for the model to write",
		JSON.stringify(derived.tool),
	);
	check(/documents/.test(derived.tool.toolDescription), "AI tool: n8n's automatic tool description says it answers from the documents", derived.tool.toolDescription);
	check(
		derived.plain.prompt === '={{ $json.chatInput }}' && Object.keys(derived.plain.arguments).length === 0,
		'AI tool: outside the tool, Ask keeps the Chat Trigger default (no $fromAI)',
		JSON.stringify(derived.plain),
	);
}

module.exports = { checkToolSchema };

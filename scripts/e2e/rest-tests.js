'use strict';
// REST part of the e2e run, against `n8n start`: owner setup + login, the package's types are served,
// POST /rest/credentials/test (right key passes, wrong key fails clearly), and the index dropdown
// (loadOptions) returns the sandbox's indexes.
const { RestClient } = require('./lib/rest');
const W = require('./lib/workflows');
const { CREDENTIAL, WRONG_KEY_CREDENTIAL, WRONG_KEY } = require('./cli-tests');

const OWNER = { email: 'e2e-owner@example.com', password: 'E2e-Passw0rd!' };

async function setupAndLogin(n8n, owner = OWNER) {
	const rest = new RestClient(n8n.url);
	const settings = await rest.get('/rest/settings');
	if (settings.json?.data?.userManagement?.showSetupOnFirstLoad !== false) {
		await rest.setupOwner(owner);
	}
	await rest.login(owner);
	return rest;
}

async function runRestTests(ctx) {
	const { n8n, sandbox, check, log } = ctx;
	const rest = await setupAndLogin(n8n);
	check(true, 'REST: owner set up and logged in');

	// The package's node and credential types are what the editor loads.
	const types = await rest.get('/types/nodes.json');
	const nodeTypes = Array.isArray(types.json) ? types.json : [];
	const lc = nodeTypes.find((t) => t.name === W.NODE_TYPE);
	check(lc, `REST: /types/nodes.json lists ${W.NODE_TYPE}`, `${nodeTypes.length} types, none of them ours`);
	// usableAsTool: n8n derives a tool variant an AI Agent can call.
	const tool = nodeTypes.find((t) => t.name === `${W.NODE_TYPE}Tool`);
	check(
		tool && Array.isArray(tool.outputs) && tool.outputs.includes('ai_tool'),
		`REST: /types/nodes.json lists the AI Agent tool ${W.NODE_TYPE}Tool`,
		tool ? JSON.stringify(tool.outputs) : 'missing',
	);
	// What the agent sees: the tool schema and description, derived by this n8n's own code.
	if (lc && tool) await require('./tool-schema').checkToolSchema({ plain: lc, tool, runtime: n8n.runtime, check, log });
	const creds = await rest.get('/types/credentials.json');
	check(Array.isArray(creds.json) && creds.json.some((c) => c.name === W.CREDENTIAL_TYPE), `REST: /types/credentials.json lists ${W.CREDENTIAL_TYPE}`, 'missing');

	// The imported credential, as the editor sees it (secrets redacted).
	const got = await rest.get(`/rest/credentials/${CREDENTIAL.id}?includeData=true`);
	const stored = got.json?.data;
	check(stored?.type === W.CREDENTIAL_TYPE, 'REST: imported credential is readable', JSON.stringify(got.json).slice(0, 300));
	check(!JSON.stringify(got.json).includes(sandbox.apiKey), 'REST: GET credential does not return the API key', 'key in response');

	const test = async (label, credentials) => {
		const before = sandbox.requests.length;
		const r = await rest.post('/rest/credentials/test', { credentials }, { expectStatus: 200 });
		const result = r.json?.data ?? r.json;
		const hits = sandbox.requests.slice(before).filter((q) => q.method === 'GET' && q.path === '/api/v1/projects');
		log(`  credential test (${label}): ${JSON.stringify(result)}`);
		return { result, hits };
	};

	// 1. saved credential as the editor sends it (redacted data; n8n restores the stored key)
	let t = await test('saved, redacted', { id: CREDENTIAL.id, name: CREDENTIAL.name, type: W.CREDENTIAL_TYPE, data: stored?.data ?? {} });
	check(t.result?.status === 'OK', 'REST: credential test with the right key succeeds', JSON.stringify(t.result));
	check(t.hits.length > 0, 'REST: credential test called GET /api/v1/projects on the sandbox', 'no request');
	check(t.hits.every((q) => q.headers.authorization === `Bearer ${sandbox.apiKey}`), 'REST: credential test sent the key as Bearer token', JSON.stringify(t.hits.map((q) => q.headers.authorization?.slice(0, 12))));

	// 2. same credential, key typed in the form
	t = await test('explicit right key', { id: CREDENTIAL.id, name: CREDENTIAL.name, type: W.CREDENTIAL_TYPE, data: { apiKey: sandbox.apiKey, region: 'custom', baseUrl: sandbox.url } });
	check(t.result?.status === 'OK', 'REST: credential test with the key typed in succeeds', JSON.stringify(t.result));

	// 3. wrong key typed in
	t = await test('explicit wrong key', { id: CREDENTIAL.id, name: CREDENTIAL.name, type: W.CREDENTIAL_TYPE, data: { apiKey: WRONG_KEY, region: 'custom', baseUrl: sandbox.url } });
	check(t.result?.status === 'Error', 'REST: credential test with a wrong key fails', JSON.stringify(t.result));
	check(typeof t.result?.message === 'string' && /401|unauthori[sz]ed|api key|authenticat|forbidden/i.test(t.result.message), 'REST: wrong-key failure says why', t.result?.message);
	check(!String(t.result?.message).includes(WRONG_KEY), 'REST: wrong-key failure does not echo the key', t.result?.message);

	// 4. stored wrong-key credential
	const wrongStored = (await rest.get(`/rest/credentials/${WRONG_KEY_CREDENTIAL.id}?includeData=true`)).json?.data;
	t = await test('saved wrong key', { id: WRONG_KEY_CREDENTIAL.id, name: WRONG_KEY_CREDENTIAL.name, type: W.CREDENTIAL_TYPE, data: wrongStored?.data ?? {} });
	check(t.result?.status === 'Error', 'REST: stored wrong-key credential fails the test', JSON.stringify(t.result));

	// 5. unreachable base URL: a clear message, not a hang
	t = await test('unreachable base URL', { id: CREDENTIAL.id, name: CREDENTIAL.name, type: W.CREDENTIAL_TYPE, data: { apiKey: sandbox.apiKey, region: 'custom', baseUrl: 'http://127.0.0.1:9' } });
	check(t.result?.status === 'Error', 'REST: unreachable base URL fails the test', JSON.stringify(t.result));

	// The index dropdown (loadOptions), as the node panel requests it.
	if (lc) {
		const version = Array.isArray(lc.version) ? Math.max(...lc.version) : lc.version;
		const methodName = findLoadOptionsMethod(lc.properties, 'indexIds') ?? 'getIndexes';
		const r = await rest.post(
			'/rest/dynamic-node-parameters/options',
			{
				nodeTypeAndVersion: { name: W.NODE_TYPE, version },
				path: 'parameters.indexIds',
				methodName,
				currentNodeParameters: { resource: 'session', operation: 'create', indexIds: [] },
				credentials: { [W.CREDENTIAL_TYPE]: { id: CREDENTIAL.id, name: CREDENTIAL.name } },
			},
			{ expectStatus: 200 },
		);
		const options = r.json?.data ?? [];
		const values = options.map((o) => o.value);
		const missing = sandbox.fixtures.indexIds.filter((id) => !values.includes(id));
		check(missing.length === 0, `REST: ${methodName} lists the sandbox's indexes`, `missing ${missing.join(', ')}; got ${JSON.stringify(options).slice(0, 300)}`);
		log(`  loadOptions ${methodName}: ${options.map((o) => o.name).join(', ')}`);
	}
	return { rest };
}

function findLoadOptionsMethod(properties = [], name) {
	const p = properties.find((x) => x.name === name && x.typeOptions?.loadOptionsMethod);
	return p?.typeOptions?.loadOptionsMethod;
}

module.exports = { runRestTests, setupAndLogin, OWNER };

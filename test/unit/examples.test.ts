/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test code (node:fs, __dirname), never run inside n8n */
/**
 * Every examples/*.json must import with n8n's own CLI, `n8n import:workflow --input=<file>`, as admins
 * script it. That path stores the file's `id` as it is: without one it stops with "SQLITE_CONSTRAINT:
 * NOT NULL constraint failed: workflow_entity.id" (n8n 2.41.1). The e2e imports the files unmodified
 * (scripts/e2e/cli-tests.js); this keeps a new example from reaching it without an id.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const examplesDir = join(__dirname, '..', '..', 'examples');
const files = readdirSync(examplesDir).filter((file) => file.endsWith('.json')).sort();

interface ExampleJson {
	id?: unknown;
	name?: unknown;
	nodes?: Array<{ id?: unknown; name?: unknown; type?: unknown; typeVersion?: unknown; position?: unknown }>;
	connections?: Record<string, Record<string, Array<Array<{ node: string }> | null>>>;
	active?: unknown;
}

const read = (file: string) => JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as ExampleJson;

/** n8n's own workflow IDs: 16 characters of 0-9, A-Z, a-z (generateNanoId in @n8n/db). */
const N8N_ID = /^[0-9A-Za-z]{16}$/;

describe('examples/*.json import with `n8n import:workflow`', () => {
	it('there are examples to check', () => {
		expect(files.length).toBeGreaterThan(0);
	});

	it.each(files)('%s has a workflow id of n8n\'s shape', (file) => {
		expect(read(file).id).toEqual(expect.stringMatching(N8N_ID));
	});

	it('no two examples share an id (an import would overwrite the other)', () => {
		const byId = new Map<unknown, string[]>();
		for (const file of files) byId.set(read(file).id, [...(byId.get(read(file).id) ?? []), file]);
		expect([...byId.values()].filter((names) => names.length > 1)).toEqual([]);
	});

	it.each(files)('%s is a workflow n8n can store (name, nodes, connections, inactive)', (file) => {
		const wf = read(file);
		expect(typeof wf.name === 'string' && wf.name.length > 0).toBe(true);
		expect(wf.active).toBe(false);
		expect(Array.isArray(wf.nodes) && wf.nodes.length > 0).toBe(true);
		const nodes = wf.nodes ?? [];
		for (const node of nodes) {
			expect([typeof node.id, typeof node.name, typeof node.type, typeof node.typeVersion]).toEqual(['string', 'string', 'string', 'number']);
			expect(Array.isArray(node.position) && node.position.length === 2).toBe(true);
		}
		const names = nodes.map((node) => node.name as string);
		expect(new Set(names).size).toBe(names.length);
		expect(new Set(nodes.map((node) => node.id)).size).toBe(nodes.length);
		// Every connection runs between nodes of this workflow.
		const ends = Object.entries(wf.connections ?? {}).flatMap(([from, outputs]) => [
			from,
			...Object.values(outputs).flatMap((lists) => lists.flatMap((list) => (list ?? []).map((c) => c.node))),
		]);
		expect(ends.filter((name) => !names.includes(name))).toEqual([]);
	});
});

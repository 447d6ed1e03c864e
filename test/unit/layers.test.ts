/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports -- Node.js test/dev code, never run inside n8n */
/**
 * The node's code stands on five floors, and imports only run down (or stay in their own folder):
 * the node class; actions; methods and turn; transport and conversations; helpers. A module that
 * imported from a floor above it would tie the lower layer to what is built on it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../nodes/LlamaCloudChat');

const FLOORS: Record<string, number> = {
	'.': 1,
	actions: 2,
	methods: 3,
	turn: 3,
	transport: 4,
	conversations: 4,
	helpers: 5,
};

function sourceFiles(dir: string): string[] {
	return readdirSync(dir).flatMap((name) => {
		const path = join(dir, name);
		if (statSync(path).isDirectory()) return sourceFiles(path);
		return name.endsWith('.ts') ? [path] : [];
	});
}

/** The top folder of a file under the node (`.` for the node class itself). */
function homeOf(file: string): string {
	const [first, ...rest] = relative(ROOT, file).split('/');
	return rest.length === 0 ? '.' : first;
}

function localImports(file: string): string[] {
	const text = readFileSync(file, 'utf8');
	const specifiers = [...text.matchAll(/^(?:import|export)[^;]*?from\s+'(\.[^']*)'/gms)].map((match) => match[1]);
	// `../turn` is the folder's index.
	return specifiers.map((specifier) => {
		const path = resolve(dirname(file), specifier);
		return existsSync(`${path}.ts`) ? `${path}.ts` : join(path, 'index.ts');
	});
}

describe('the layers of nodes/LlamaCloudChat', () => {
	const files = sourceFiles(ROOT);

	it('knows the floor of every folder', () => {
		expect(files.length).toBeGreaterThan(20);
		for (const file of files) expect(FLOORS[homeOf(file)]).toBeDefined();
	});

	it('imports only from its own folder or a floor below it', () => {
		const upward: string[] = [];
		for (const file of files) {
			const home = homeOf(file);
			for (const target of localImports(file)) {
				const to = homeOf(target);
				if (to !== home && FLOORS[to] <= FLOORS[home]) upward.push(`${relative(ROOT, file)} → ${relative(ROOT, target)}`);
			}
		}
		expect(upward).toEqual([]);
	});

	it('enters the turn only through its index (sendMessage and what the router needs)', () => {
		const sideDoors: string[] = [];
		for (const file of files) {
			if (homeOf(file) === 'turn') continue;
			for (const target of localImports(file)) {
				if (homeOf(target) === 'turn' && relative(ROOT, target) !== 'turn/index.ts') sideDoors.push(`${relative(ROOT, file)} → ${relative(ROOT, target)}`);
			}
		}
		expect(sideDoors).toEqual([]);
	});
});

/* eslint-disable @n8n/community-nodes/no-restricted-globals, @n8n/community-nodes/no-restricted-imports, @n8n/community-nodes/no-dangerous-functions -- Node.js test code, never run inside n8n: it starts a redis-server */
// A real Redis for engine tests: Debian's redis-server (apt-get install -y redis-server), started by the
// test on a free loopback port with persistence off and its files in a temporary folder, and stopped by
// its own process ID. Under CI=true a missing redis-server fails the test file (CI installs it, see
// .ci/run); elsewhere the tests that need it are skipped, with a note.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createClient } from 'redis';

export const REDIS_INSTALL_HINT = 'apt-get install -y redis-server';

/** Whether redis-server is on the PATH. */
export function redisServerInstalled(): boolean {
	return spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

export interface RunningRedis {
	url: string;
	stop(): Promise<void>;
}

/** Starts redis-server and resolves once it answers PING. */
export async function startRedis(): Promise<RunningRedis> {
	const port = await freePort();
	const dir = mkdtempSync(join(tmpdir(), 'llamacloud-chat-redis-'));
	const child: ChildProcess = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
		{ stdio: 'ignore' },
	);
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	const url = `redis://127.0.0.1:${port}`;
	const stop = async () => {
		if (child.exitCode === null) {
			child.kill('SIGTERM');
			await exited;
		}
		rmSync(dir, { recursive: true, force: true });
	};
	for (let attempt = 0; attempt < 100; attempt++) {
		if (child.exitCode !== null) break;
		const client = createClient({ url, socket: { reconnectStrategy: false } });
		client.on('error', () => {});
		try {
			await client.connect();
			await client.ping();
			await client.quit();
			return { url, stop };
		} catch {
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
	}
	await stop();
	throw new Error(`redis-server did not answer on port ${port}`);
}

'use strict';
// The provisioning phase of an e2e run: every n8n runtime the run needs is installed (or found in the
// cache) BEFORE the timed tests start, so that a cold machine's install (minutes per version) never counts
// against a test timeout. It has its own, generous limit and reports progress while it works: which
// version, how long it has taken, the install step scripts/n8n-runtime.sh is in and the disk used so far.
const path = require('node:path');
const { DEFAULT_N8N_VERSION, ensureRuntime } = require('./n8n');
const { run } = require('./proc');

const DEFAULT_LIMIT_MIN = 40;

const seconds = (ms) => `${Math.round(ms / 1000)} s`;

/** Disk used by a folder, e.g. "1.4G" (du; undefined when it cannot tell within 30 s). */
async function diskUsage(dir) {
	const r = await run('du', ['-sh', dir], { timeoutMs: 30_000 }).catch(() => undefined);
	return r?.code === 0 ? r.stdout.split('\t')[0].trim() : undefined;
}

/** The folder scripts/n8n-runtime.sh uses for a version (same rules: N8N_RUNTIME_DIR, N8N_RUNTIME_ROOT). */
function runtimeDir(version) {
	const root = process.env.N8N_RUNTIME_ROOT || path.join(require('node:os').homedir(), '.cache', 'n8n-nodes-llamacloud-chat', 'runtime');
	const dirVersion = process.env.N8N_RUNTIME_N8N_VERSION || DEFAULT_N8N_VERSION;
	return process.env.N8N_RUNTIME_DIR && dirVersion === version ? process.env.N8N_RUNTIME_DIR : path.join(root, version);
}

/**
 * Ensure the runtimes of `versions`, one after the other, within limitMin minutes in all.
 * Returns { runtimes: { [version]: env }, installs: [{ version, seconds, disk }], ms }.
 * Throws (with the version, the step it was in and the limit) when a runtime cannot be provisioned.
 */
async function provisionRuntimes(versions, { log = console.log, limitMin = DEFAULT_LIMIT_MIN, heartbeatMs = 30_000 } = {}) {
	const t0 = Date.now();
	const deadline = t0 + limitMin * 60_000;
	const runtimes = {};
	const installs = [];
	log(`  provisioning ${versions.map((v) => `n8n ${v}`).join(', ')}: not counted against the test timeout; limit ${limitMin} min (--provision-timeout-min)`);
	for (const version of versions) {
		const started = Date.now();
		const dir = runtimeDir(version);
		let current = 'checking the cache';
		let installing = false;
		let beating = false;
		const heartbeat = setInterval(async () => {
			if (beating) return;
			beating = true;
			const disk = installing ? await diskUsage(dir) : undefined;
			beating = false;
			log(`  [provision] n8n ${version}: ${seconds(Date.now() - started)} so far (phase ${seconds(Date.now() - t0)} of ${limitMin} min); ${current}${disk ? `; ${disk} on disk` : ''}`);
		}, heartbeatMs);
		heartbeat.unref();
		let env;
		try {
			env = await ensureRuntime({
				version,
				timeoutMs: Math.max(1, deadline - Date.now()),
				onLog: (line) => {
					installing = true;
					const text = line.replace(/^\[n8n-runtime\]\s*/, '');
					// The heartbeat names the step the script is in, not npm's warnings in between.
					if (/^(step \d+\/\d+|waiting|installing|the other install)/.test(text)) current = text;
					log(`  [provision] n8n ${version} (${seconds(Date.now() - started)}): ${text}`);
				},
			});
		} catch (e) {
			throw new Error(`provisioning phase (limit ${limitMin} min): n8n ${version} failed after ${seconds(Date.now() - started)}, last step "${current}": ${e.message}`);
		} finally {
			clearInterval(heartbeat);
		}
		runtimes[version] = env;
		if (installing) {
			const disk = await diskUsage(env.N8N_RUNTIME_DIR);
			installs.push({ version, seconds: Math.round((Date.now() - started) / 1000), disk });
			log(`  n8n ${version} on Node.js ${env.N8N_RUNTIME_NODE_VERSION}: installed now in ${seconds(Date.now() - started)}, ${disk ?? '?'} (${env.N8N_RUNTIME_DIR})`);
		} else {
			log(`  n8n ${version} on Node.js ${env.N8N_RUNTIME_NODE_VERSION}: cached since ${env.N8N_RUNTIME_INSTALLED_AT || '?'} (${env.N8N_RUNTIME_DIR})`);
		}
	}
	return { runtimes, installs, ms: Date.now() - t0 };
}

module.exports = { provisionRuntimes, DEFAULT_LIMIT_MIN };

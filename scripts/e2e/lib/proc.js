'use strict';
// Child processes with bounded lifetimes. Every child gets its own process group so that stopping it
// also stops what it spawned (n8n starts a task-runner child). All live children are tracked and
// killed on exit, on SIGINT/SIGTERM and on uncaught errors.
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const live = new Set();

function killGroup(child, signal) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			/* already gone */
		}
	}
}

/** Stop a child (and its group): SIGTERM, then SIGKILL after graceMs. Resolves when it has exited. */
function stop(child, graceMs = 10_000) {
	if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
		child.once('exit', () => {
			clearTimeout(timer);
			// The group may still hold grandchildren (task runner): make sure they go too.
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {
				/* group gone */
			}
			resolve();
		});
		killGroup(child, 'SIGTERM');
	});
}

function killAllSync() {
	for (const child of live) {
		killGroup(child, 'SIGKILL');
	}
	live.clear();
}

let hooked = false;
function installExitHooks(onSignal) {
	if (hooked) return;
	hooked = true;
	process.on('exit', killAllSync);
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
		process.on(sig, async () => {
			process.stderr.write(`\n[e2e] ${sig}: stopping child processes...\n`);
			try {
				if (onSignal) await onSignal(sig);
			} finally {
				killAllSync();
				process.exit(130);
			}
		});
	}
}

/**
 * Start a long-running child. Output is appended to logFile (if given) and kept (last 2 MB) in
 * child.output so callers can scan it for secrets or messages.
 */
function startProcess(cmd, args, { env, cwd, logFile, onLine } = {}) {
	const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
	live.add(child);
	child.output = '';
	const logStream = logFile ? fs.createWriteStream(logFile, { flags: 'a' }) : null;
	let pending = '';
	const onData = (buf) => {
		const s = buf.toString();
		child.output += s;
		if (child.output.length > 2_000_000) child.output = child.output.slice(-2_000_000);
		if (logStream) logStream.write(s);
		if (onLine) {
			pending += s;
			const lines = pending.split('\n');
			pending = lines.pop();
			for (const line of lines) onLine(line);
		}
	};
	child.stdout.on('data', onData);
	child.stderr.on('data', onData);
	child.on('exit', () => {
		live.delete(child);
		if (logStream) logStream.end();
	});
	child.on('error', (err) => {
		child.output += `\n[spawn error] ${err.message}\n`;
	});
	return child;
}

/**
 * Run a command to completion with a hard timeout. Resolves { code, signal, stdout, stderr, ms };
 * rejects only on timeout (after killing the process group) or spawn failure.
 */
function run(cmd, args, { env, cwd, timeoutMs = 120_000, logFile, label } = {}) {
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
		live.add(child);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (b) => (stdout += b));
		child.stderr.on('data', (b) => (stderr += b));
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child, 'SIGKILL');
		}, timeoutMs);
		child.on('error', (err) => {
			clearTimeout(timer);
			live.delete(child);
			reject(err);
		});
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			live.delete(child);
			try {
				process.kill(-child.pid, 'SIGKILL'); // leftover grandchildren
			} catch {
				/* none */
			}
			const ms = Date.now() - started;
			if (logFile) {
				fs.appendFileSync(
					logFile,
					`\n===== ${label || cmd} ${args.join(' ')} (exit ${code}${signal ? ' ' + signal : ''}, ${ms} ms)\n` +
						`----- stdout\n${stdout}\n----- stderr\n${stderr}\n`,
				);
			}
			if (timedOut) {
				const err = new Error(`${label || cmd} timed out after ${Math.round(timeoutMs / 1000)} s`);
				err.stdout = stdout;
				err.stderr = stderr;
				reject(err);
				return;
			}
			resolve({ code, signal, stdout, stderr, ms });
		});
	});
}

module.exports = { run, startProcess, stop, killAllSync, installExitHooks, live };

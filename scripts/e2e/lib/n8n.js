'use strict';
// A throw-away n8n instance (its own user folder, database, encryption key and ports) running on the
// cached runtime from scripts/n8n-runtime.sh (one folder per n8n version, each with its own Node.js), with this repo's package installed the way
// n8n installs community packages.
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { live, run, startProcess, stop } = require('./proc');

const REPO = path.resolve(__dirname, '../../..');
const PACKAGE_NAME = 'n8n-nodes-llamacloud-chat';

/** Environment of the caller minus npm's exported config and anything that would change n8n's behaviour. */
function cleanEnv(extra = {}) {
	const env = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (/^npm_/i.test(k)) continue;
		if (/^(N8N_|DB_|EXECUTIONS_|QUEUE_|GENERIC_|NODE_OPTIONS$|NODE_ENV$|NODE_FUNCTION_ALLOW)/.test(k)) continue;
		env[k] = v;
	}
	return { ...env, ...extra };
}

/** The n8n version `npm run test:e2e` / `npm run dev` use unless told otherwise. */
const DEFAULT_N8N_VERSION = '2.41.1';

/**
 * Provision (or reuse) the runtime of one n8n version (default: N8N_RUNTIME_N8N_VERSION or 2.41.1),
 * each in its own cache folder; returns { N8N_NODE, N8N_BIN, N8N_RUNTIME_N8N_VERSION, ... }.
 * onLog gets each progress line of scripts/n8n-runtime.sh (default: printed to stderr). After timeoutMs
 * the script and everything it started (npm, node-gyp) are killed; the next call starts the install over.
 */
async function ensureRuntime({ version, timeoutMs = 30 * 60_000, onLog = (line) => process.stderr.write(`${line}\n`) } = {}) {
	const script = path.join(REPO, 'scripts', 'n8n-runtime.sh');
	const res = await new Promise((resolve, reject) => {
		const { spawn } = require('node:child_process');
		// N8N_RUNTIME_* (e.g. N8N_RUNTIME_DIR) configure the runtime script itself: keep them.
		// So do the npm settings that say where the registry and the npm cache are (the script keeps the same ones).
		const runtimeEnv = Object.fromEntries(
			Object.entries(process.env).filter(([k]) => k.startsWith('N8N_RUNTIME_') || /^npm_config_(registry|cache|cafile|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl)$/i.test(k)),
		);
		if (version) runtimeEnv.N8N_RUNTIME_N8N_VERSION = version;
		// A folder set for one version must not receive another one.
		if (version && process.env.N8N_RUNTIME_DIR && version !== (process.env.N8N_RUNTIME_N8N_VERSION || DEFAULT_N8N_VERSION)) delete runtimeEnv.N8N_RUNTIME_DIR;
		// Its own process group, tracked like every other child: a timeout or Ctrl-C stops npm and node-gyp too.
		const child = spawn('bash', [script, 'env'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: cleanEnv(runtimeEnv) });
		live.add(child);
		let out = '';
		let pending = '';
		child.stdout.on('data', (b) => (out += b));
		child.stderr.on('data', (b) => {
			pending += b;
			const lines = pending.split('\n');
			pending = lines.pop();
			for (const line of lines) if (line.trim()) onLog(line);
		});
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {
				child.kill('SIGKILL');
			}
		}, timeoutMs);
		child.on('error', reject);
		child.on('close', (code) => {
			clearTimeout(timer);
			live.delete(child);
			if (pending.trim()) onLog(pending);
			if (timedOut) {
				reject(new Error(`provisioning n8n ${version || DEFAULT_N8N_VERSION} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped; ` + 'the half-finished folder is started over by the next run (or run `bash scripts/n8n-runtime.sh` alone to watch it)'));
			} else if (code !== 0) reject(new Error(`scripts/n8n-runtime.sh failed (exit ${code}) for n8n ${version || DEFAULT_N8N_VERSION}`));
			else resolve(out);
		});
	});
	const vars = {};
	for (const line of res.split('\n')) {
		const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
		if (m) vars[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
	}
	for (const k of ['N8N_NODE', 'N8N_BIN']) {
		if (!vars[k] || !fs.existsSync(vars[k])) throw new Error(`n8n-runtime.sh gave no usable ${k}`);
	}
	return vars;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/**
 * `npm pack` the package (exactly what would be published) and unpack it where n8n keeps community
 * packages: <userFolder>/.n8n/nodes/node_modules/<name>. n8n 2.x scans that folder for n8n-nodes-*
 * packages at start-up, so node types get the real package prefix (n8n-nodes-llamacloud-chat.llamaCloudChat);
 * N8N_CUSTOM_EXTENSIONS would load them as CUSTOM.llamaCloudChat instead. Unpacking a copy (rather
 * than symlinking the repo) makes `require('n8n-workflow')` resolve to n8n's own copy, as in production.
 */
async function installPackage({ packageDir = REPO, userFolder, workDir, logFile }) {
	const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
	const listed = [...(pkg.n8n?.nodes || []), ...(pkg.n8n?.credentials || [])];
	if (!listed.length) throw new Error(`${packageDir}/package.json has no n8n.nodes / n8n.credentials`);
	const missing = listed.filter((f) => !fs.existsSync(path.join(packageDir, f)));
	if (missing.length) {
		throw new Error(`package not built: missing ${missing.join(', ')} (run \`npm run build\` first)`);
	}
	const packDir = path.join(workDir, 'pack');
	fs.mkdirSync(packDir, { recursive: true });
	const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
		cwd: packageDir,
		env: cleanEnv(),
		timeoutMs: 120_000,
		logFile,
		label: 'npm pack',
	});
	if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr.trim().slice(-500)}`);
	const info = JSON.parse(packed.stdout)[0];
	const tgz = path.join(packDir, info.filename);
	const dest = path.join(userFolder, '.n8n', 'nodes', 'node_modules', pkg.name);
	fs.mkdirSync(dest, { recursive: true });
	const tar = await run('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1'], { timeoutMs: 60_000 });
	if (tar.code !== 0) throw new Error(`tar failed: ${tar.stderr}`);
	const notPacked = listed.filter((f) => !fs.existsSync(path.join(dest, f)));
	if (notPacked.length) throw new Error(`npm pack left out ${notPacked.join(', ')} (check "files" in package.json)`);
	await installAsN8nDoes(dest, { logFile });
	// n8n's community-packages service keeps the installed packages in its nodes folder's package.json.
	const nodesPkg = path.join(userFolder, '.n8n', 'nodes', 'package.json');
	const manifest = fs.existsSync(nodesPkg) ? JSON.parse(fs.readFileSync(nodesPkg, 'utf8')) : { name: 'installed-nodes', private: true };
	manifest.dependencies = { ...manifest.dependencies, [pkg.name]: pkg.version };
	fs.writeFileSync(nodesPkg, JSON.stringify(manifest, null, 2));
	return { name: pkg.name, version: pkg.version, dir: dest, files: info.files.length, tarball: tgz };
}

/**
 * What n8n's installer does with an unpacked package (CommunityPackagesService.downloadPackage, n8n 1.93 and
 * newer; read in n8n 2.41.1's dist): drop devDependencies, peerDependencies and optionalDependencies from its
 * package.json, then `npm install` in its folder with scripts off. This package has no runtime dependencies,
 * so npm adds nothing, but a dependency slipped into package.json would show here as it would for users.
 */
async function installAsN8nDoes(dir, { logFile } = {}) {
	const file = path.join(dir, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...kept } = JSON.parse(fs.readFileSync(file, 'utf8'));
	fs.writeFileSync(file, JSON.stringify(kept, null, 2));
	const args = ['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false'];
	const r = await run('npm', args, { cwd: dir, env: cleanEnv(), timeoutMs: 180_000, logFile, label: 'npm install (as n8n installs)' });
	if (r.code !== 0) throw new Error(`npm ${args.join(' ')} failed in ${dir}: ${r.stderr.trim().slice(-500)}`);
}

class N8nInstance {
	/**
	 * @param {object} o
	 * @param {object} o.runtime   output of ensureRuntime()
	 * @param {string} o.userFolder N8N_USER_FOLDER
	 * @param {string} o.artifactsDir where logs go
	 * @param {string} [o.name]     label for logs
	 * @param {boolean} [o.chatHub] keep n8n 2.x's `chat-hub` module (n8n's Chat) enabled
	 */
	constructor({ runtime, userFolder, artifactsDir, name = 'n8n', encryptionKey, extraEnv = {}, chatHub = false }) {
		this.runtime = runtime;
		this.userFolder = userFolder;
		this.artifactsDir = artifactsDir;
		this.name = name;
		this.encryptionKey = encryptionKey || existingEncryptionKey(userFolder) || crypto.randomBytes(24).toString('hex');
		this.extraEnv = extraEnv;
		this.chatHub = chatHub;
		this.logFile = path.join(artifactsDir, `${name}.log`);
		this.netLog = path.join(artifactsDir, `${name}-blocked-network.log`);
		this.brokerPort = null;
		this.port = null;
		this.child = null;
	}

	major() {
		return Number(String(this.runtime.N8N_RUNTIME_N8N_VERSION || DEFAULT_N8N_VERSION).split('.')[0]);
	}

	env(extra = {}) {
		return cleanEnv({
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: this.encryptionKey,
			DB_TYPE: 'sqlite',
			DB_SQLITE_POOL_SIZE: '2',
			N8N_LOG_LEVEL: 'warn',
			N8N_LOG_OUTPUT: 'console',
			// no phoning home, no banners, no surveys
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_DYNAMIC_BANNERS_ENABLED: 'false',
			N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
			N8N_VERIFIED_PACKAGES_ENABLED: 'false',
			N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
			N8N_REINSTALL_MISSING_PACKAGES: 'false',
			// modules that only fetch catalogues from n8n's servers or need AI providers (2.x names; n8n 1.x
			// refuses to start on a module name it does not know); chat-hub stays on where a test uses n8n's Chat
			...(this.major() >= 2 ? { N8N_DISABLED_MODULES: `mcp-registry,instance-ai,workflow-builder,${this.chatHub ? '' : 'chat-hub,'}insights` } : {}),
			N8N_PYTHON_ENABLED: 'false',
			N8N_RUNNERS_MODE: 'internal',
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
			...(this.brokerPort ? { N8N_RUNNERS_BROKER_PORT: String(this.brokerPort) } : {}),
			N8N_SECURE_COOKIE: 'false',
			N8N_BLOCK_ENV_ACCESS_IN_NODE: 'true',
			N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
			EXECUTIONS_DATA_PRUNE: 'false',
			GENERIC_TIMEZONE: 'UTC',
			TZ: 'UTC',
			NODE_ENV: 'production',
			NODE_OPTIONS: `--require ${path.join(__dirname, '..', 'no-network.cjs')}`,
			E2E_NETLOG: this.netLog,
			...this.extraEnv,
			...extra,
		});
	}

	/** Run an n8n CLI command to completion. */
	async cli(args, { timeoutMs = 180_000, env = {} } = {}) {
		if (!this.brokerPort) this.brokerPort = await freePort();
		return run(this.runtime.N8N_NODE, [this.runtime.N8N_BIN, ...args], {
			env: this.env(env),
			cwd: this.userFolder,
			timeoutMs,
			logFile: this.logFile,
			label: `n8n ${args[0]}`,
		});
	}

	/** `n8n start` on 127.0.0.1:<free port>; resolves once the REST API answers. */
	async start({ timeoutMs = 240_000, env = {}, port, tee = false } = {}) {
		this.port = port || (await freePort());
		this.brokerPort = await freePort();
		this.url = `http://127.0.0.1:${this.port}`;
		const started = Date.now();
		this.child = startProcess(this.runtime.N8N_NODE, [this.runtime.N8N_BIN, 'start'], {
			env: this.env({
				N8N_PORT: String(this.port),
				N8N_HOST: '127.0.0.1',
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_PROTOCOL: 'http',
				N8N_EDITOR_BASE_URL: this.url,
				WEBHOOK_URL: `${this.url}/`,
				...env,
			}),
			cwd: this.userFolder,
			logFile: this.logFile,
			onLine: tee ? (line) => process.stdout.write(`[n8n] ${line}\n`) : undefined,
		});
		const deadline = started + timeoutMs;
		let lastErr = '';
		while (Date.now() < deadline) {
			if (this.child.exitCode !== null || this.child.signalCode !== null) {
				throw new Error(`n8n start exited early (code ${this.child.exitCode}):\n${this.child.output.slice(-3000)}`);
			}
			try {
				const r = await fetch(`${this.url}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
				if (r.ok) {
					const s = await fetch(`${this.url}/rest/settings`, { signal: AbortSignal.timeout(5000) });
					if (s.ok) return { ms: Date.now() - started };
					lastErr = `/rest/settings ${s.status}`;
				} else lastErr = `/healthz/readiness ${r.status}`;
			} catch (e) {
				lastErr = e.message;
			}
			await new Promise((r) => setTimeout(r, 500));
		}
		throw new Error(`n8n did not become ready within ${timeoutMs / 1000} s (${lastErr}); log: ${this.logFile}`);
	}

	/** `n8n worker` (queue mode) with its own runner-broker port; resolves once it says it is ready. */
	async startWorker({ concurrency = 10, timeoutMs = 240_000, env = {} } = {}) {
		this.brokerPort = await freePort();
		const started = Date.now();
		this.child = startProcess(this.runtime.N8N_NODE, [this.runtime.N8N_BIN, 'worker', `--concurrency=${concurrency}`], {
			env: this.env(env),
			cwd: this.userFolder,
			logFile: this.logFile,
		});
		while (Date.now() - started < timeoutMs) {
			if (this.child.exitCode !== null || this.child.signalCode !== null) {
				throw new Error(`n8n worker exited early (code ${this.child.exitCode}):\n${this.child.output.slice(-3000)}`);
			}
			if (this.child.output.includes('n8n worker is now ready')) return { ms: Date.now() - started, pid: this.child.pid };
			await new Promise((r) => setTimeout(r, 200));
		}
		throw new Error(`n8n worker not ready within ${timeoutMs / 1000} s; log: ${this.logFile}`);
	}

	/** SIGKILL the process and its group (task runner included), as a crash would; resolves once it is gone. */
	async kill() {
		const child = this.child;
		if (!child || child.exitCode !== null || child.signalCode !== null) return;
		const gone = new Promise((r) => child.once('exit', r));
		try {
			process.kill(-child.pid, 'SIGKILL');
		} catch {
			child.kill('SIGKILL');
		}
		await gone;
	}

	async stop() {
		if (this.child) await stop(this.child, 15_000);
		this.child = null;
	}

	blockedNetwork() {
		try {
			return fs.readFileSync(this.netLog, 'utf8').trim().split('\n').filter(Boolean);
		} catch {
			return [];
		}
	}
}

/** The key n8n saved in an existing user folder (reused by `npm run dev` across restarts). */
function existingEncryptionKey(userFolder) {
	try {
		return JSON.parse(fs.readFileSync(path.join(userFolder, '.n8n', 'config'), 'utf8')).encryptionKey;
	} catch {
		return undefined;
	}
}

function makeTempDir(prefix) {
	return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

module.exports = { REPO, PACKAGE_NAME, DEFAULT_N8N_VERSION, cleanEnv, ensureRuntime, freePort, installPackage, N8nInstance, makeTempDir };

#!/usr/bin/env node
'use strict';
/*
 * Installs this package into an n8n's nodes folder the way n8n's own installer does (lib/n8n.js:
 * installPackage): `npm pack`, unpacked into <user folder>/.n8n/nodes/node_modules/n8n-nodes-llamacloud-chat,
 * dev, peer and optional dependencies dropped, `npm install --ignore-scripts` in it, and the package listed in
 * <user folder>/.n8n/nodes/package.json. Restart that n8n afterwards: it loads community packages at start-up.
 *
 *   node scripts/e2e/install-package.js --user-folder DIR [--package-dir DIR]
 *
 * DIR is that n8n's N8N_USER_FOLDER (the folder holding .n8n; in n8n's Docker image /home/node, so mount a host
 * folder at /home/node/.n8n and pass its parent). Needs `npm run build` first.
 */
const fs = require('node:fs');
const path = require('node:path');
const { REPO, installPackage, makeTempDir } = require('./lib/n8n');

async function main(argv) {
	let userFolder;
	let packageDir = REPO;
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--user-folder') userFolder = path.resolve(argv[++i] ?? '');
		else if (argv[i] === '--package-dir') packageDir = path.resolve(argv[++i] ?? '');
		else throw new Error(`unknown argument ${argv[i]} (usage: --user-folder DIR [--package-dir DIR])`);
	}
	if (!userFolder) throw new Error('--user-folder DIR is required: the N8N_USER_FOLDER of the n8n to install into');
	fs.mkdirSync(path.join(userFolder, '.n8n', 'nodes'), { recursive: true });
	const workDir = makeTempDir('n8n-llamacloud-install-');
	try {
		const p = await installPackage({ packageDir, userFolder, workDir });
		console.log(`${p.name}@${p.version}: ${p.files} files, installed in ${p.dir} (restart n8n to load it)`);
	} finally {
		fs.rmSync(workDir, { recursive: true, force: true });
	}
}

main(process.argv.slice(2)).catch((e) => {
	console.error(`install-package: ${e.message}`);
	process.exit(1);
});

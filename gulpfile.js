const { src, dest } = require('gulp');

/** tsc compiles the TypeScript; n8n also needs the icons and codex files next to the built nodes. */
function copyAssets() {
	return src(['nodes/**/*.{png,svg,json}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(
		dest('dist'),
	);
}

exports.build = copyAssets;
exports.default = copyAssets;

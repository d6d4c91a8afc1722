// Copies what TypeScript does not: the nodes' and credential's SVG icons (light and dark) and the nodes' codex files
// (*.node.json), next to the compiled JavaScript in dist/, where n8n looks for them.
const path = require('path');
const { task, src, dest, parallel } = require('gulp');

function copy(folder, pattern) {
	return () =>
		src(path.resolve(folder, '**', pattern), { encoding: false }).pipe(dest(path.resolve('dist', folder)));
}

task(
	'build:icons',
	parallel(copy('nodes', '*.svg'), copy('credentials', '*.svg'), copy('nodes', '*.node.json')),
);

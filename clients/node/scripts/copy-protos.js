#!/usr/bin/env node
// `npm pack` / `npm publish` hooks: copies the repository's protos/ into the package
// (prepack) so a packed client works outside the repository, and removes the copy
// again (postpack --remove) so the repository keeps one source of truth.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const copy = path.join(packageRoot, 'protos');
fs.rmSync(copy, { recursive: true, force: true });
if (!process.argv.includes('--remove')) {
  fs.cpSync(path.resolve(packageRoot, '..', '..', 'protos', 'videosearch'), path.join(copy, 'videosearch'), { recursive: true });
}

// Rooms over generated projects, for the large-room scenario and the
// scale benchmark: `generate` writes `count` files of about `bytes` bytes
// in nested folders (pkgNNN/src/modN/fI.rs, 100 files per folder), and
// beside them what a real repository keeps out of the room (a .gitignore'd
// build/ folder and log, and node_modules); `startHub` runs a room-hub of
// its own over one.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO = path.resolve(__dirname, '..');

const fileAt = (i) => `pkg${String(Math.floor(i / 1000)).padStart(3, '0')}/src/mod${Math.floor(i / 100) % 10}/f${i}.rs`;

function contentOf(i, bytes) {
  const head = `// file ${i}\n`;
  const line = 'pub fn f() -> u32 { 40 + 2 }\n';
  return head + line.repeat(Math.max(0, Math.round((bytes - head.length) / line.length)));
}

function generate(root, count, bytes) {
  for (let i = 0; i < count; i += 1) {
    const file = path.join(root, fileAt(i));
    if (i % 100 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, contentOf(i, bytes));
  }
  fs.writeFileSync(path.join(root, '.gitignore'), 'build/\n*.log\n');
  fs.mkdirSync(path.join(root, 'build/out'), { recursive: true });
  fs.mkdirSync(path.join(root, 'node_modules/dep'), { recursive: true });
  for (let i = 0; i < 1000; i += 1) {
    fs.writeFileSync(path.join(root, `build/out/o${i}.js`), 'built');
    fs.writeFileSync(path.join(root, `node_modules/dep/d${i}.js`), 'dependency');
  }
  fs.writeFileSync(path.join(root, 'debug.log'), 'log');
}

// Starts target/{profile}/room-hub over `project`, serving the demo
// build, and resolves once it has printed its links: the child, the edit
// link (`link`), the view-only one if any (`viewLink`), the host link
// (`hostLink`), and how long it took (the hub walks and hashes the project
// first). `web`: the built page to serve (the trunk build by default; the
// kit's watched copy, `config.webDir`, in a scenario); `args`: more of the
// hub's options.
function startHub(project, profile, web = path.join(REPO, 'dist'), args = []) {
  const started = Date.now();
  const child = spawn(path.join(REPO, 'target', profile, 'room-hub'), [
    '--project', project, '--port', '0', '--web', web, ...args,
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`room-hub exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      // The host link is printed last, after the others.
      const host = /host link \([^)]*\): (\S+)/.exec(out);
      if (!host) return;
      resolve({
        child,
        link: /share link \(can edit\): (\S+)/.exec(out)[1],
        viewLink: /share link \(view only\): (\S+)/.exec(out)?.[1],
        hostLink: host[1],
        startMs: Date.now() - started,
      });
    });
  });
}

module.exports = { fileAt, contentOf, generate, startHub };

// Generated projects for the large-room scenario and the scale benchmark:
// `count` files of about `bytes` bytes in nested folders
// (pkgNNN/src/modN/fI.rs, 100 files per folder), and beside them what a
// real repository keeps out of the room: a .gitignore'd build/ folder and
// log, and node_modules.
const fs = require('node:fs');
const path = require('node:path');

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

module.exports = { fileAt, contentOf, generate };

// Runs a Python file under real MicroPython (the webassembly port under node) with the
// repository's runtime/ folder installed as the package `runtime`.
// usage: node tests/mpy_runner.mjs SCRIPT.py [HEAP_BYTES] [MODULE_DIR]
// MODULE_DIR (optional) holds the runtime package as .mpy files from mpy-cross instead.
// A line "#--- top level ---" in the script splits it into separate top-level runs: the
// pyscript build only collects garbage between them, so memory is measured there.
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript/micropython.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const script = readFileSync(process.argv[2], "utf8");
const heapsize = Number(process.argv[3] || 4 * 1024 * 1024);
const out = (line) => process.stdout.write(line.endsWith("\n") ? line : line + "\n");
const mp = await loadMicroPython({ heapsize, stdout: out, stderr: (l) => process.stderr.write(l + "\n"), linebuffer: true });
mp.FS.mkdir("/lib");
mp.FS.mkdir("/lib/runtime");
const moduleDir = process.argv[4] || join(root, "runtime");
const ext = process.argv[4] ? ".mpy" : ".py";
for (const name of readdirSync(moduleDir)) {
  if (name.endsWith(ext)) {
    mp.FS.writeFile("/lib/runtime/" + name, readFileSync(join(moduleDir, name)));
  }
}
try {
  mp.runPython("import sys\nsys.path.insert(0, '/lib')\n");
  for (const part of script.split("#--- top level ---")) {
    mp.runPython(part);
  }
} catch (err) {
  process.stderr.write(String(err && err.message ? err.message : err) + "\n");
  process.exit(1);
}

// Fails when src/gen differs from what `buf generate` makes of proto/: generated code is committed
// (so `npm install` needs no codegen step) and must never drift from the contract or be hand-edited.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "mdb-gen-"));
const template = readFileSync(join(root, "buf.gen.yaml"), "utf8").replace(/out: src\/gen/, `out: ${out}`);
const templateFile = join(out, "..", `${out.split("/").pop()}.buf.gen.yaml`);
writeFileSync(templateFile, template);
const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` };
try {
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--template", templateFile], { cwd: root, env, stdio: "inherit" });
  const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
  const want = new Map(files(out).map((f) => [relative(out, f), readFileSync(f, "utf8")]));
  const genDir = join(root, "src/gen");
  const have = new Map(files(genDir).map((f) => [relative(genDir, f), readFileSync(f, "utf8")]));
  const stale = [...new Set([...want.keys(), ...have.keys()])].filter((f) => want.get(f) !== have.get(f));
  if (stale.length > 0) {
    console.error(`src/gen is out of date with proto/ (run \`npm run generate\`): ${stale.join(", ")}`);
    process.exit(1);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
  rmSync(templateFile, { force: true });
}

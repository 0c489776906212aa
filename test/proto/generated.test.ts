/**
 * The generated code — TypeScript under src/gen/, Python under python/alignprop_torch/gen/ — is exactly what
 * `buf generate` makes from proto/ with buf.gen.yaml: never hand-edited, and regenerated after every proto change.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "alignprop-gen-"));
after(() => rmSync(out, { recursive: true, force: true }));

const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
  .sort();

test("src/gen and python/alignprop_torch/gen match a fresh buf generate of proto/, and proto/ passes buf lint", () => {
  const buf = join(root, "node_modules", ".bin", "buf");
  const protoc = join(root, ".venv", "bin", "protoc");
  assert.ok(existsSync(protoc), `${protoc} (the Python generators' compiler) is missing: create the project venv with \`npm test\``);
  execFileSync(buf, ["lint"], { cwd: root });
  const template = readFileSync(join(root, "buf.gen.yaml"), "utf8");
  const outDirs = [...new Set([...template.matchAll(/^\s*out: (\S+)$/gm)].map((m) => m[1]!))];
  assert.deepEqual(outDirs, ["src/gen", "python/alignprop_torch/gen"]);
  writeFileSync(join(out, "buf.gen.yaml"), template.replace(/^(\s*out: )(\S+)$/gm, (_, key: string, dir: string) => `${key}${join(out, dir)}`));
  execFileSync(buf, ["generate", "--template", join(out, "buf.gen.yaml")], {
    cwd: root,
    env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
  });
  for (const dir of outDirs) {
    const fresh = filesUnder(join(out, dir));
    assert.deepEqual(filesUnder(join(root, dir)).filter((f) => !f.includes("__pycache__")), fresh, `the files in ${dir}`);
    for (const file of fresh) {
      assert.equal(readFileSync(join(out, dir, file), "utf8"), readFileSync(join(root, dir, file), "utf8"), `${dir}/${file}`);
    }
  }
});

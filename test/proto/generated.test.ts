/** The generated TypeScript under src/gen/ is exactly what `buf generate` makes from proto/: never hand-edited. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "alignprop-gen-"));
after(() => rmSync(out, { recursive: true, force: true }));

test("src/gen matches a fresh buf generate of proto/, and proto/ passes buf lint", () => {
  const buf = join(root, "node_modules", ".bin", "buf");
  execFileSync(buf, ["lint"], { cwd: root });
  const template = readFileSync(join(root, "buf.gen.yaml"), "utf8").replace("out: src/gen", `out: ${out}`);
  writeFileSync(join(out, "buf.gen.yaml"), template);
  execFileSync(buf, ["generate", "--template", join(out, "buf.gen.yaml")], {
    cwd: root,
    env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
  });
  const file = join("alignprop", "v1", "alignprop_pb.ts");
  assert.equal(readFileSync(join(out, file), "utf8"), readFileSync(join(root, "src", "gen", file), "utf8"));
});

/**
 * Ctrl+C as the help promises: the first stops after the current step, a second exits at once — whether the terminal
 * sends it to the whole process group (CLI and trainer) or it is sent to the CLI alone — leaving no trainer running
 * and no private socket folder behind.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { alignprop } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-signals-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** A long run through the CLI, once it has trained a step; its trainer's pid; and its own temp folder. */
async function trainingCli(name: string, detached: boolean) {
  const temp = join(root, `tmp-${name}`);
  mkdirSync(temp);
  const cli = alignprop(
    ["train", "--ci", "--runs_dir", join(root, "runs"), "--run_name", name, "--num_epochs", "100000", "--sample_num_steps", "2", "--train_batch_size", "1", "--save_freq", "1000"],
    { env: { TMPDIR: temp }, detached, buffer: false },
  );
  let stderr = "";
  cli.stderr!.setEncoding("utf8");
  const announced = new Promise<void>((resolve) =>
    cli.stderr!.on("data", (chunk: string) => {
      stderr += chunk;
      if (stderr.includes("(again to exit now)")) resolve();
    }),
  );
  await new Promise<void>((resolve) => {
    cli.stdout!.setEncoding("utf8");
    cli.stdout!.on("data", (chunk: string) => chunk.includes('"metrics"') && resolve());
  });
  const trainerPid = Number(execFileSync("pgrep", ["-P", String(cli.pid)], { encoding: "utf8" }).trim().split("\n")[0]);
  return { cli, trainerPid, temp, announced, stderr: () => stderr };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("a second SIGINT sent to the CLI alone exits at once (130), kills the trainer and removes the socket folder", async () => {
  const { cli, trainerPid, temp, announced, stderr } = await trainingCli("cli-alone", false);
  assert.equal(readdirSync(temp).filter((n) => n.startsWith("alignprop-")).length, 1, "the run's private socket folder");
  cli.kill("SIGINT");
  await announced;
  cli.kill("SIGINT");
  const result = await cli;
  assert.equal(result.exitCode, 130, stderr());
  assert.match(stderr(), /SIGINT again: trainer \d+ killed/);
  assert.equal(alive(trainerPid), false, "no trainer outlives the CLI");
  assert.deepEqual(readdirSync(temp).filter((n) => n.startsWith("alignprop-")), []);
});

test("a second Ctrl+C to the process group exits at once (130) with no trainer or socket folder left", async () => {
  const { cli, trainerPid, temp, announced, stderr } = await trainingCli("group", true);
  process.kill(-cli.pid!, "SIGINT");
  await announced;
  process.kill(-cli.pid!, "SIGINT");
  const result = await cli;
  assert.equal(result.exitCode, 130, stderr());
  assert.equal(alive(trainerPid), false);
  assert.deepEqual(readdirSync(temp).filter((n) => n.startsWith("alignprop-")), []);
});

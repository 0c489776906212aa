import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { UsageError, flag, flagNames, parseArgv, takeOptions } from "../../src/cli/args.js";

const NONE = new Set<string>();

test("parseArgv reads --name value and --name=value", () => {
  assert.deepEqual(parseArgv(["--config", "run.json", "--seed=7"], NONE), { flags: { config: "run.json", seed: "7" }, positionals: [] });
});

test("parseArgv keeps everything after the first = in --name=value, including an empty value", () => {
  assert.deepEqual(parseArgv(["--set=a=b", "--empty="], NONE).flags, { set: "a=b", empty: "" });
});

test("parseArgv reads a flag at the end, or before another flag, as true", () => {
  assert.deepEqual(parseArgv(["--verbose", "--config", "c.json", "--dry-run"], NONE).flags, {
    verbose: true,
    config: "c.json",
    "dry-run": true,
  });
});

test("parseArgv never gives a boolean flag the next argument as its value", () => {
  assert.deepEqual(parseArgv(["--ci", "train.json"], new Set(["ci"])), { flags: { ci: true }, positionals: ["train.json"] });
  assert.deepEqual(parseArgv(["--ci", "train.json"], NONE).flags, { ci: "train.json" }, "without the boolean list it would");
});

test("parseArgv still lets a boolean flag be written --flag=false", () => {
  assert.deepEqual(parseArgv(["--ci=false"], new Set(["ci"])).flags, { ci: "false" });
});

test("parseArgv collects positionals in order around flags", () => {
  assert.deepEqual(parseArgv(["train", "--seed", "3", "extra", "-x"], NONE), { flags: { seed: "3" }, positionals: ["train", "extra", "-x"] });
});

test("parseArgv takes a negative number as a flag's value", () => {
  assert.deepEqual(parseArgv(["--offset", "-1"], NONE).flags, { offset: "-1" });
});

test("parseArgv treats everything after -- as positionals, even ones that look like flags", () => {
  assert.deepEqual(parseArgv(["--seed", "1", "--", "--not-a-flag", "x", "--"], NONE), {
    flags: { seed: "1" },
    positionals: ["--not-a-flag", "x", "--"],
  });
});

test("parseArgv lets a later flag override an earlier one", () => {
  assert.deepEqual(parseArgv(["--seed", "1", "--seed=2"], NONE).flags, { seed: "2" });
});

const options = z.object({
  config: z.string(),
  ci: flag(),
  save_freq: z.coerce.number().int().positive().optional(),
});

test("takeOptions validates the flags a command owns and passes the others on untouched", () => {
  const { options: own, rest } = takeOptions(options, { config: "c.json", "save-freq": "5", "num-epochs": "3", ci: true });
  assert.deepEqual(own, { config: "c.json", ci: true, save_freq: 5 });
  assert.deepEqual(rest, { "num-epochs": "3" });
});

test("takeOptions applies defaults for flags not given", () => {
  assert.deepEqual(takeOptions(options, { config: "c.json" }), { options: { config: "c.json", ci: false }, rest: {} });
});

test("takeOptions names the bad flag in kebab-case with its value", () => {
  assert.throws(
    () => takeOptions(options, { config: "c.json", "save-freq": "abc" }),
    (err: Error) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^--save-freq="abc": /);
      return true;
    },
  );
});

test("takeOptions reports every bad flag, one per line", () => {
  assert.throws(
    () => takeOptions(options, { config: true, "save-freq": "-2", ci: "yes" }),
    (err: Error) => {
      const lines = err.message.split("\n");
      assert.equal(lines.length, 3, err.message);
      assert.ok(lines.some((l) => l.startsWith("--config=true: ")), err.message);
      assert.ok(lines.some((l) => l.startsWith('--save-freq="-2": ')), err.message);
      assert.ok(lines.some((l) => l.startsWith('--ci="yes": ')), err.message);
      return true;
    },
  );
});

test("flag() reads a bare flag or true as true, and false or absence as false", () => {
  const schema = z.object({ ci: flag() });
  assert.equal(schema.parse({ ci: true }).ci, true);
  assert.equal(schema.parse({ ci: "true" }).ci, true);
  assert.equal(schema.parse({ ci: "false" }).ci, false);
  assert.equal(schema.parse({}).ci, false);
  assert.equal(schema.safeParse({ ci: "yes" }).success, false);
});

test("flagNames lists a schema's flags in kebab-case", () => {
  assert.deepEqual(flagNames(options), ["config", "ci", "save-freq"]);
});

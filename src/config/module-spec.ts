/**
 * What a `reward` or `image_hook` naming the user's own code looks like, and which engine runs it: JavaScript
 * (`.js`, `.mjs`, `.cjs`; tfjs imports it) or Python (`file.py`, or `file.py:function` to pick the function; torch
 * imports it, python/alignprop_torch/user_modules.py). A path with a slash and neither ending is JavaScript to tfjs,
 * which imports it as Node would. Anything else (`brightness`, `hue:blue`) names a built-in reward.
 */
import type { Engine } from "./warnings.js";

type ModuleLanguage = "javascript" | "python";

export interface ModuleSpec {
  /** The file, without a `:function` suffix. */
  path: string;
  language: ModuleLanguage | undefined;
}

/** The engine each language's modules run on, and the reverse. */
const LANGUAGE_ENGINE: Readonly<Record<ModuleLanguage, Engine>> = { javascript: "tfjs", python: "torch" };
const ENGINE_LANGUAGE: Readonly<Record<Engine, ModuleLanguage>> = { tfjs: "javascript", torch: "python" };
/** How each language's modules are named, for messages. */
const MODULE_FORM: Readonly<Record<ModuleLanguage, string>> = {
  javascript: "a JavaScript module (.js, .mjs, .cjs)",
  python: "a Python module (file.py, or file.py:function)",
};

/** `name:argument` is a built-in reward with an argument, which may hold paths (`aesthetic:head=./head.safetensors`). */
const BUILTIN_WITH_ARGUMENT = /^[A-Za-z][\w-]+:/;
const PYTHON = /^(.+\.py)(?::[A-Za-z_]\w*)?$/;
const JAVASCRIPT = /\.(m|c)?js$/;

/** The module `spec` names, or undefined when it names none (a built-in reward's name). */
export function moduleSpec(spec: string): ModuleSpec | undefined {
  if (BUILTIN_WITH_ARGUMENT.test(spec)) return undefined;
  const python = PYTHON.exec(spec);
  if (python) return { path: python[1]!, language: "python" };
  if (JAVASCRIPT.test(spec)) return { path: spec, language: "javascript" };
  if (/[\\/]/.test(spec)) return { path: spec, language: undefined };
  return undefined;
}

/**
 * Why `engine` cannot run the module `spec` names, or undefined when it can or `spec` names none (`onlyModule`: the
 * field takes nothing but modules, as `image_hook`). Python modules run on torch only, JavaScript ones on tfjs only;
 * tfjs imports a path with another ending as Node would.
 */
export function moduleEngineProblem(spec: string, engine: Engine, onlyModule = false): string | undefined {
  const named = moduleSpec(spec) ?? (onlyModule && spec ? { path: spec, language: undefined } : undefined);
  if (!named) return undefined;
  const language = named.language ?? (engine === "tfjs" ? "javascript" : undefined);
  const wanted = ENGINE_LANGUAGE[engine];
  if (language === wanted) return undefined;
  const what = language ? `${MODULE_FORM[language]}, which runs on --engine ${LANGUAGE_ENGINE[language]}` : "neither a .py nor a .js file";
  return `${JSON.stringify(spec)} is ${what}; --engine ${engine} takes ${MODULE_FORM[wanted]}`;
}

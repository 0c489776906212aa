/** The run directory (`runs/<name>/`), owned here: its names, creation, events log, images and checkpoints. */
export * from "./layout.js";
export * from "./create.js";
export * from "./events-log.js";
export * from "./images.js";
export * from "./checkpoints.js";
export * from "./prepare.js";
export { RunDir } from "./run-dir.js";

/** Reading this area's fixtures (test/fixtures/vae-clip/, written by diffusers and transformers through python/oracle/{vae,clip_text}.py). */
import { fixtureArea } from "../helpers/fixtures.js";

export const { fixturePath, readJson, readKeys, readTensors } = fixtureArea("vae-clip");
export { maxAbsDiff, tensorOf } from "../helpers/fixtures.js";

/** Reading this area's fixtures (test/fixtures/clip-vision/, written by transformers through python/oracle/clip_vision.py). */
import { fixtureArea } from "../helpers/fixtures.js";

/** The oracle's tiny configs (VISION and TEXT in python/oracle/clip_vision.py). */
export const TINY_VISION = { hidden_size: 32, intermediate_size: 37, num_hidden_layers: 2, num_attention_heads: 4, image_size: 32, patch_size: 8, projection_dim: 16 };
export const TINY_TEXT = { vocab_size: 874, hidden_size: 24, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 2, eos_token_id: 873 };

export const { fixturePath, readJson, readKeys, readTensors } = fixtureArea("clip-vision");
export { maxAbsDiff, tensorOf } from "../helpers/fixtures.js";

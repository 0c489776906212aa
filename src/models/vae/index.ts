export { AutoencoderKL, type LatentDistribution } from "./autoencoder-kl.js";
export { DEFAULT_VAE_CONFIG, validateVaeConfig, type VaeConfig } from "./config.js";
export { convertVaeStateDict, loadVaeStateDict, renameVaeKey } from "./state-dict.js";

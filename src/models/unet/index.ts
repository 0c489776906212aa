export { timestepBatch, UNet2DConditionModel } from "./unet-2d-condition.js";
export {
  DEFAULT_UNET_CONFIG,
  DOWN_BLOCK_TYPES,
  UP_BLOCK_TYPES,
  perBlock,
  validateUNetConfig,
  type DownBlockType,
  type PerBlock,
  type UNet2DConditionConfig,
  type UpBlockType,
} from "./config.js";
export { TimestepEmbedding, Timesteps } from "./embeddings.js";
export { Downsample2D, ResnetBlock2D, Upsample2D } from "./resnet.js";
export { Attention, BasicTransformerBlock, FeedForward, GEGLU } from "./attention.js";
export { Transformer2DModel } from "./transformer-2d.js";
export {
  CrossAttnDownBlock2D,
  CrossAttnUpBlock2D,
  DownBlock2D,
  getDownBlock,
  getUpBlock,
  UNetMidBlock2DCrossAttn,
  UpBlock2D,
  type DownBlock,
  type UpBlock,
} from "./unet-blocks.js";

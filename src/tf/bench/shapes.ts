/**
 * The work the bench times, the same in TF.js and PyTorch (scripts/bench/torch_bench.py reads this object as JSON).
 * Conv: the 4×64×32×32 3×3 layer of issue 4; matmul: square 1024; UNet: diffusers' tiny test UNet.
 */
export interface ConvShape {
  /** [B, H, W, Cin] (NHWC; PyTorch gets the NCHW transpose). */
  x: [number, number, number, number];
  /** [KH, KW, Cin, Cout] (PyTorch gets [Cout, Cin, KH, KW]). */
  filter: [number, number, number, number];
  stride: number;
  /** Symmetric zero padding (PyTorch's `padding`). */
  pad: number;
}

export interface MatMulShape {
  m: number;
  k: number;
  n: number;
}

export interface UNetShape {
  /** diffusers UNet2DConditionModel config.json keys. */
  config: Record<string, unknown>;
  /** [B, H, W, C] latents. */
  sample: [number, number, number, number];
  /** Text tokens per sample in the encoder hidden states [B, tokens, cross_attention_dim]. */
  tokens: number;
  timestep: number;
}

export interface BenchShapes {
  conv: ConvShape;
  matmul: MatMulShape;
  unet: UNetShape;
}

export const BENCH_SHAPES: BenchShapes = {
  conv: { x: [4, 32, 32, 64], filter: [3, 3, 64, 64], stride: 1, pad: 1 },
  matmul: { m: 1024, k: 1024, n: 1024 },
  unet: {
    config: {
      block_out_channels: [32, 64],
      layers_per_block: 2,
      sample_size: 32,
      in_channels: 4,
      out_channels: 4,
      down_block_types: ["DownBlock2D", "CrossAttnDownBlock2D"],
      up_block_types: ["CrossAttnUpBlock2D", "UpBlock2D"],
      cross_attention_dim: 32,
    },
    sample: [4, 32, 32, 4],
    tokens: 77,
    timestep: 500,
  },
};

/** Multiply-adds × 2 of one conv pass; its input and filter gradients cost the same. */
export function convFlops({ x, filter, stride, pad }: ConvShape): number {
  const [b, h, w] = x;
  const [kh, kw, cin, cout] = filter;
  const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - kw) / stride) + 1;
  return 2 * b * oh * ow * cout * kh * kw * cin;
}

export const matMulFlops = ({ m, k, n }: MatMulShape): number => 2 * m * k * n;

"""PyTorch side of `alignprop bench`: the same work as src/tf/bench/ in float32, timed by the same rule.

Usage (spawned by the bench with the project's Python, src/python/env.ts):
  python scripts/bench/torch_bench.py <kernels|unet> '<json>'
where the JSON is {"shapes": BENCH_SHAPES, "threads": n, "repeats": n}. Prints one JSON line: the timings, the
torch and diffusers versions, the threads, and the peak RSS of this process.
"""
import json
import resource
import statistics
import sys
import time
from importlib.metadata import version

import torch
import torch.nn.functional as F


def timed(work, repeats, slow_ms=1000.0):
    """Run once (warm-up); if that took longer than slow_ms it is the measurement, else the median (and fastest) of
    `repeats`."""
    start = time.perf_counter()
    work()
    first = (time.perf_counter() - start) * 1000
    if first > slow_ms:
        return {"ms": first, "min_ms": first, "runs": 1}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return {"ms": statistics.median(times), "min_ms": min(times), "runs": repeats}


def with_gflops(timing, flops):
    return {**timing, "gflops": flops / timing["ms"] / 1e6}


def kernels(shapes, repeats):
    conv, mm = shapes["conv"], shapes["matmul"]
    b, h, w, cin = conv["x"]
    kh, kw, _, cout = conv["filter"]
    stride, pad = conv["stride"], conv["pad"]
    x = torch.randn(b, cin, h, w)
    weight = torch.randn(cout, cin, kh, kw)
    dy = torch.randn_like(F.conv2d(x, weight, None, stride, pad))
    oh, ow = dy.shape[2], dy.shape[3]
    flops = 2 * b * oh * ow * cout * kh * kw * cin

    def backward(mask):
        return lambda: torch.ops.aten.convolution_backward(
            dy, x, weight, None, [stride] * 2, [pad] * 2, [1, 1], False, [0, 0], 1, mask)

    a, m = torch.randn(mm["m"], mm["k"]), torch.randn(mm["k"], mm["n"])
    with torch.no_grad():
        return {
            "conv_fwd": with_gflops(timed(lambda: F.conv2d(x, weight, None, stride, pad), repeats), flops),
            "conv_bwd_input": with_gflops(timed(backward([True, False, False]), repeats), flops),
            "conv_bwd_filter": with_gflops(timed(backward([False, True, False]), repeats), flops),
            "matmul": with_gflops(timed(lambda: a @ m, repeats), 2 * mm["m"] * mm["k"] * mm["n"]),
        }


def unet_step(shape, repeats):
    """diffusers' own UNet2DConditionModel from the bench config, float32, every parameter trained (MSE to noise)."""
    from diffusers import UNet2DConditionModel

    b, h, w, c = shape["sample"]
    unet = UNet2DConditionModel.from_config(shape["config"]).float().train()
    sample, target = torch.randn(b, c, h, w), torch.randn(b, c, h, w)
    context = torch.randn(b, shape["tokens"], unet.config.cross_attention_dim)
    timestep = torch.tensor(float(shape["timestep"]))

    def step():
        unet.zero_grad(set_to_none=True)
        loss = ((unet(sample, timestep, context).sample - target) ** 2).mean()
        loss.backward()

    count = sum(p.numel() for p in unet.parameters())
    return {"unet_step": {**timed(step, repeats, 20_000), "params": count}}


def main():
    task, spec = sys.argv[1], json.loads(sys.argv[2])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    if task == "kernels":
        result = kernels(spec["shapes"], spec["repeats"])
    elif task == "unet":
        result = unet_step(spec["shapes"]["unet"], spec["repeats"])
    else:
        raise SystemExit(f"task={task!r}: expected kernels or unet")
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    threads = torch.get_num_threads()
    result["torch"] = {"version": torch.__version__, "diffusers": version("diffusers"), "threads": threads}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

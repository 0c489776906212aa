"""A scripted run behind the real wire: `python -m alignprop_torch.wire.demo --config <run>/config.json --control …
--events … --observe … [--step-ms 5]` takes the trainer's arguments (spawnTrainer can start it), binds the Python
TrainerServer, prints the ready line and publishes what a run publishes — statuses, metrics every step, image batches
every `log_image_freq` steps, checkpoint events every `save_freq` steps and at the end — while obeying pause, resume,
checkpoint_now, stop, SIGINT and SIGTERM at step boundaries. Its "training" is a wait of `--step-ms` and numbers that
are a function of the step; it writes events.jsonl (pixels left out, as the TS trainer does) and nothing else: no
images or checkpoints on disk. It lets the TS bridge tests drive the Python wire before the PyTorch trainer exists."""

from __future__ import annotations

import io
import json
import math
import signal
import sys
import threading
import time
from pathlib import Path

from PIL import Image

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.args import trainer_arg_parser, trainer_args
from alignprop_torch.trainer.run_control import RunControl
from alignprop_torch.wire.json_lines import to_json_line
from alignprop_torch.wire.ready import announce_ready
from alignprop_torch.wire.server import TrainerServer, TrainerServerOptions

AGENT = "alignprop-trainer-demo/0.1.0 (python)"


def tiny_png(step: int, index: int) -> bytes:
    image = Image.new("RGB", (8, 8), ((step * 40) % 256, (index * 90) % 256, 128))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class DemoRun:
    def __init__(self, config: dict, server: TrainerServer, control: RunControl, run_dir: Path, step_s: float) -> None:
        self.total = int(config["num_epochs"])
        self.log_image_freq = int(config.get("log_image_freq", 1))
        self.save_freq = int(config.get("save_freq", 1))
        self.batch = int(config.get("train_batch_size", 1))
        self.server, self.control, self.run_dir, self.step_s = server, control, run_dir, step_s
        self.events_log = (run_dir / "events.jsonl").open("a", encoding="utf-8")
        self.last_saved = -1

    def run(self) -> int:
        self.announce(f"starting the scripted demo run ({AGENT})")
        self.transition(pb.RUN_STATE_RUNNING, f"training {self.total} steps")
        while self.control.step < self.total and not self.control.stop_requested:
            self.control.boundary(self.checkpoint, self.announce)
            if self.control.stop_requested:
                break
            self.train_one_step()
        reason = f"stop requested at step {self.control.step}" if self.control.stop_requested else "all steps done"
        self.transition(pb.RUN_STATE_STOPPING, reason)
        if self.last_saved != self.control.step:
            self.checkpoint("final")
        self.transition(pb.RUN_STATE_DONE, f"finished at step {self.control.step}/{self.total}")
        self.events_log.close()
        return 0

    def train_one_step(self) -> None:
        time.sleep(self.step_s)
        step = self.control.step = self.control.step + 1
        rewards = [math.tanh(step / 50) + 0.01 * i for i in range(self.batch)]
        mean = sum(rewards) / len(rewards)
        self.publish(
            pb.Metrics(
                step=step,
                epoch=step - 1,
                loss=-mean,
                reward_mean=mean,
                reward_std=math.sqrt(sum((r - mean) ** 2 for r in rewards) / len(rewards)),
                reward_min=min(rewards),
                reward_max=max(rewards),
                lr=1e-3,
                step_seconds=self.step_s,
                samples_per_second=self.batch / max(self.step_s, 1e-9),
            )
        )
        if step % self.log_image_freq == 0:
            images = [
                pb.Image(png=tiny_png(step, i), prompt=f"demo prompt {i}", reward=r, width=8, height=8)
                for i, r in enumerate(rewards)
            ]
            self.publish(pb.ImageBatch(step=step, images=images))
        if step % self.save_freq == 0 and step < self.total:
            self.checkpoint("save_freq")

    def checkpoint(self, reason: str) -> None:
        step = self.control.step
        self.last_saved = step
        path = str(self.run_dir / "checkpoints" / f"checkpoint_{step}")
        self.publish(pb.CheckpointSaved(step=step, epoch=max(0, step - 1), path=path, reason=reason))

    def transition(self, state: pb.RunState.ValueType, message: str) -> None:
        self.control.to(state)
        self.announce(message)

    def announce(self, message: str) -> None:
        step = self.control.step
        status = pb.Status(
            state=self.control.state,
            step=step,
            total=self.total,
            epoch=max(0, step - 1),
            backend="scripted demo (no model)",
            message=message,
            run_dir=str(self.run_dir),
        )
        self.publish(status)

    def publish(self, payload) -> None:
        event = self.server.publish(payload)
        if event.HasField("images"):
            logged = pb.Event()
            logged.CopyFrom(event)
            for image in logged.images.images:
                image.png = b""
            event = logged
        self.events_log.write(to_json_line(event) + "\n")
        self.events_log.flush()


def stop_on_signals(control: RunControl) -> None:
    """SIGINT/SIGTERM stop the run like the stop command; a second one exits at once."""
    received = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        if len(received) > 1:
            sys.exit(130)
        name = signal.Signals(signum).name
        sys.stderr.write(f"alignprop trainer: {name}: stopping after the current step (again to exit now)\n")
        # The handler runs on the training thread, perhaps inside RunControl: ask from another thread.
        threading.Thread(target=control.handle, args=("stop",)).start()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def main(argv: list[str] | None = None) -> int:
    parser = trainer_arg_parser("python -m alignprop_torch.wire.demo")
    parser.add_argument("--step-ms", type=float, default=5.0, help="how long each scripted step takes")
    ns = parser.parse_args(argv)
    args = trainer_args(ns)
    config_json = args.config.read_text(encoding="utf-8")
    run_dir = args.config.parent.resolve()
    control = RunControl()
    server = TrainerServer.bind(
        TrainerServerOptions(
            endpoints=args.endpoints,
            run_id=run_dir.name,
            config_json=config_json,
            agent=AGENT,
            handle=control.handle,
            curve=args.curve,
        )
    )
    stop_on_signals(control)
    announce_ready(run_dir.name, str(run_dir), server.endpoints)
    try:
        return DemoRun(json.loads(config_json), server, control, run_dir, ns.step_ms / 1000).run()
    finally:
        server.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as err:  # bad arguments, key files or endpoints: one line, as the TS trainer says it
        sys.stderr.write(f"alignprop trainer failed: {err}\n")
        sys.exit(1)

"""Reads a TensorBoard log directory with TensorBoard's own EventAccumulator and prints what it holds as JSON."""

import hashlib
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "images": 0, "tensors": 0})
acc.Reload()
tags = acc.Tags()
out = {
    "scalars": {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags["scalars"]},
    "images": {
        t: [[e.step, e.width, e.height, hashlib.sha256(e.encoded_image_string).hexdigest()] for e in acc.Images(t)]
        for t in tags["images"]
    },
    "text": {
        t: [[e.step, e.tensor_proto.string_val[0].decode()] for e in acc.Tensors(t)]
        for t in tags["tensors"]
        if acc.SummaryMetadata(t).plugin_data.plugin_name == "text"
    },
}
print(json.dumps(out))

"""huggingface_hub's side of test/hub/hf-cache-python.test.ts, run with the project's Python.

hf_cache.py fill '<job>' <out.json>
    Fills the cache ($HF_HUB_CACHE) from the fake Hub ($HF_ENDPOINT) with huggingface_hub's own download functions:
    the first revision by `snapshot_download(allow_patterns=files)`; of the others only the first file, with
    `hf_hub_download`.
hf_cache.py read '<job>' <out.json>
    With HF_HUB_OFFLINE=1, finds every revision's files in a cache alignprop filled, with `snapshot_download`,
    `hf_hub_download` and `scan_cache_dir`, then loads the first revision with diffusers'
    `StableDiffusionPipeline.from_pretrained`.

<job> is JSON: {"repo": "org/name", "revisions": ["main", ...], "files": ["model_index.json", ...]}. The result is
written to <out.json> as one JSON object (stdout is left to the libraries' own messages).
"""

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants, hf_hub_download, scan_cache_dir, snapshot_download


@dataclass(frozen=True)
class Job:
    repo: str
    revisions: list[str]
    files: list[str]


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fill(job: Job) -> dict[str, object]:
    first, *others = job.revisions
    snapshot = snapshot_download(job.repo, revision=first, allow_patterns=job.files)
    files = {rev: hf_hub_download(job.repo, job.files[0], revision=rev) for rev in others}
    return {"snapshot": snapshot, "files": files}


def read(job: Job) -> dict[str, object]:
    assert constants.HF_HUB_OFFLINE, "read runs with HF_HUB_OFFLINE=1"
    snapshots = {rev: snapshot_download(job.repo, revision=rev) for rev in job.revisions}
    hashes = {rev: {f: sha256(hf_hub_download(job.repo, f, revision=rev)) for f in job.files} for rev in job.revisions}
    info = scan_cache_dir()
    repos = [
        {
            "repo_id": repo.repo_id,
            "nb_files": repo.nb_files,
            "revisions": {rev.commit_hash: sorted(rev.refs) for rev in repo.revisions},
        }
        for repo in info.repos
    ]

    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(job.repo, revision=job.revisions[0])
    conv_in_sum = pipe.unet.conv_in.weight.double().sum().item()
    return {
        "snapshots": snapshots,
        "sha256": hashes,
        "scan": {"repos": repos, "warnings": [str(w) for w in info.warnings]},
        "conv_in_sum": conv_in_sum,
    }


def main(argv: list[str]) -> int:
    verb, spec, out = argv
    job = Job(**json.loads(spec))
    Path(out).write_text(json.dumps({"fill": fill, "read": read}[verb](job)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The numerical oracle: diffusers, transformers and torch themselves, run in float64 on tiny seeded models, write
the safetensors fixtures under test/fixtures/ that the TF.js tests compare against.

`python -m oracle [--out DIR]` (from python/) writes every fixture; each module writes one area.
"""

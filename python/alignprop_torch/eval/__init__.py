"""The evaluation during training on the torch engine, as src/eval/ defines it for TF.js: the fixed eval set
(eval_set.py), the monitors (monitors.py, shapes_classifier.py), the best evaluation (best.py) and the pass inside a
run (run_evaluation.py)."""

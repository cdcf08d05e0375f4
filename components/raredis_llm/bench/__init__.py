"""Benchmarks that print figures: speed as ratios against a reference measured in the same
run (never timed assertions). :mod:`.inference`: the fine-tuned component's engines and
levers; :mod:`.training`: LoRA training sentences/s by recipe and dtype."""

"""Per-run files and judgement: metrics.csv, run.json, TensorBoard events, verdicts."""

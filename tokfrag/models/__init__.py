"""Models: token and fragment families, baselines, and the shared forecaster contract."""

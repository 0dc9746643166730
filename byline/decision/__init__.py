"""Decision layer: trained, calibrated classifiers and false-positive-rate thresholds."""

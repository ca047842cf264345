"""scikit-learn models: traffic forecasts, anomaly bands, staffing. Arrays in, predictions out."""

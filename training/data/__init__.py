"""Training data: crops and strips for the reader, photos and heatmap targets for the detector."""

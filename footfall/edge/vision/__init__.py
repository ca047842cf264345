"""The camera pipeline: detection, tracking, counting lines, zones, heatmaps, camera health."""

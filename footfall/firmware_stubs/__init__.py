"""Simulated devices that behave like real counter firmware and cameras, with ground truth."""

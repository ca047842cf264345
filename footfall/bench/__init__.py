"""Benchmarks against real services (`footfall bench …`): tools, not the product.

Each module measures one part (ingest, edge, vision, api) and returns a JSON-ready dict
whose figures compare the product against a baseline measured in the same run.
"""

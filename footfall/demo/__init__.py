"""`footfall demo` and its simulators: tools that show the product, not the product.

`run` wires the whole store end to end, `api` starts the API part with a demo login,
`pos` is the point-of-sale simulator that posts receipts through the API.
"""

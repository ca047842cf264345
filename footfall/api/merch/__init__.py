"""Merchandiser analytics: floor heatmaps, zone performance, slow movers, queues, paths, layout tests.

Pure computations (`heatmap`, `zones`, `sales`, `queues`, `paths`) take rows and return
numbers; `queries` reads the vision and receipt tables with the named blocks in
`footfall/db/sql/merch.sql` and returns the API's response models.
"""

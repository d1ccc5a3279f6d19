"""The dashboard: one static, offline HTML page of the model's life (`make dashboard`).

Built only from files the pipeline, `make monitor`, `make drift`, `make retrain`, the review
and the registry's git tags already hold; charts are inline SVG drawn here, so the page needs
no script, no server and no network (docs/monitoring.md, "Dashboard").
"""

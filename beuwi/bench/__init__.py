"""`beuwi bench`: the engine over HTTP under wrk, next to the original service's query, on generated catalogues.

generate: catalogues and profiles; baseline: the original query, ported; wrk: the load generator and rotate.lua;
run: the orchestration; report: JSON, Markdown and the plot.
"""

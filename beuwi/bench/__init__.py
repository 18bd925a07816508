"""`beuwi bench`: the engine over HTTP under wrk, next to the original service's query, on generated catalogues.

generate: catalogues and profiles; original: the 2019 query on its own model (Neo4j with APOC); baseline: its
port to this project's model (FalkorDB); wrk: the load generator and rotate.lua;
run: the orchestration; report: JSON, Markdown and the plot.
"""

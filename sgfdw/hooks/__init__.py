"""The plugin API of splitgraph.hooks: mount handlers (data sources), external object
handlers and Splitfile commands, callable from SQL through sgfdw's functions."""

"""The kit shared by wrappers over a remote source (see DESIGN.md): what every such
wrapper must decide the same way, kept in one place so that they cannot drift apart."""

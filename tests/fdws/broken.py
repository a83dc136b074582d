"""A wrapper module that fails while being imported (tests of the `wrapper` option)."""

raise RuntimeError("broken module: this FDW cannot be imported")

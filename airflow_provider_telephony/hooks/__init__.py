"""Hooks: one module per vendor. Import a hook from its module; this package imports nothing."""

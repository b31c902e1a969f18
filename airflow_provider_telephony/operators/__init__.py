"""Operators: one module per vendor."""

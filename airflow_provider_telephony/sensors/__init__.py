"""Sensors: one module per vendor."""

"""Triggers (async, run by the triggerer): one module per vendor."""

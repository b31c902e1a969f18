"""Typed request and response models (pydantic v2), one module per vendor."""

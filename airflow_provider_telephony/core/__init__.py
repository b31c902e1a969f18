"""Vendor-neutral machinery shared by every hook: transport, retries, limits, errors, storage, redaction.

Nothing in this package names a vendor.
"""

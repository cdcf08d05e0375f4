"""Offline model assets: where the default local models come from."""

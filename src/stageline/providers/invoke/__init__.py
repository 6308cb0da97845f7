"""Providers of the Invoke category: the Lambda invoke action, run on locally registered functions."""

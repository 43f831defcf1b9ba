"""Fuzz tests: properties checked on generated input (hypothesis), and an atheris harness."""

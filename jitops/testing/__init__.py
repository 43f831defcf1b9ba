"""Test doubles that ship with jitops, for its own tests and for users trying it out."""

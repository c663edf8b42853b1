"""The shipped policies, installed as package data (each folder is a policy; see README.md)."""

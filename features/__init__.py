"""The shipped scenarios, installed as package data so `infoshare coverage` finds them anywhere."""

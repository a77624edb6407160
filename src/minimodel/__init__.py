"""minimodel: a language model built from scratch, one curriculum phase at a time."""

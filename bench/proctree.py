"""A process and its descendants, from /proc (for memory.py and many.py)."""


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def tree(pid):
    """`pid` and every descendant of it, parents first."""
    yield pid
    for c in children(pid):
        yield from tree(c)

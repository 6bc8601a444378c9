"""Small helpers for web frameworks; each module works with its framework's request.

They import nothing from the framework unless asked to find the current
request themselves (Flask's ``request`` proxy), so dlrkit never depends on one.
"""

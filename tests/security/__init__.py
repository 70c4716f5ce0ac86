"""Security sweeps over every route: CSRF (test_csrf.py) and isolation between operations (test_isolation.py)."""

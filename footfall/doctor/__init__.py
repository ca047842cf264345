"""`footfall doctor`: checks that a deployment can run without losing data.

`checks.CHECKS` is a plain list of check functions (`Settings` in, `Finding`s out); a new
check is one function appended there. The broker checks probe the broker for real.
"""

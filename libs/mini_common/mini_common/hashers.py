"""The password hasher every service uses first: Argon2id with OWASP's parameters.

Django's own Argon2 hasher asks for 100 MiB and 8 lanes per hash (about 0.2 s
of two cores here): a burst of logins could exhaust a small machine's memory.
OWASP's Password Storage Cheat Sheet lists m=46 MiB, t=1, p=1 as an
equivalent-strength Argon2id configuration. The algorithm name stays "argon2",
so hashes made with other parameters still verify, and Django re-hashes them
with these ones at the next successful login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 47_104  # KiB (46 MiB)
    parallelism = 1

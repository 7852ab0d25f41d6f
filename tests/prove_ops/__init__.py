"""Adversarial op declarations for the prover, written the way users write plugin modules.

Each module registers its ops with ``defop`` at import time and lists their names in
``WRONG`` (a rule or forward that is wrong somewhere: must never be proven) and
``RIGHT`` (correct declarations: must never be refuted).
"""

"""Every write of the digital library, one module per concern.

Views, API handlers, jobs and the demo call these; none of them saves a digital model itself.
Each service refuses with a ``digital.errors`` sentence.
"""

"""The ``tmsfield`` command line."""

"""tmsfield: TMS-induced electric fields in head models."""

"""Statistics as pure functions: arrays in, frozen results (with ``to_frame()``) out, no I/O."""

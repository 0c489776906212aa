"""The Python twin of src/bridge/'s trainer end: the same sockets, frames, snapshot, CURVE policy and JSON lines."""

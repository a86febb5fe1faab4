"""The model: the Backend protocol and its value types, the backends, the encoders, and the loader."""

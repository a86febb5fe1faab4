"""Classification: the backend protocol, its implementations, and the service that drives them."""

"""The HTTP edge: AWS JSON 1.1 protocol, request validation and response shaping."""

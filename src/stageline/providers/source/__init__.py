"""Source providers: the actions that start a pipeline from a commit or an object."""

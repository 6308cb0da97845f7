"""Build and Test providers: the CodeBuild action."""

"""stageline: AWS CodePipeline's model and API, with executions that really run."""

__version__ = "0.1.0"
